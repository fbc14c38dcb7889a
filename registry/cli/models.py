"""``modelyard models``: list, promote, alias, history and rollback over a server's REST API."""

from __future__ import annotations

import getpass
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import click
import httpx

API = "/api/2.0/mlflow"
OURS = "/api/2.0/modelyard"
DEFAULT_TRACKING_URI = "http://127.0.0.1:5000"


class _Server:
    """A registry server reached over HTTP; every failure becomes a one-line ClickException."""

    def __init__(self, base: str, user: str) -> None:
        self.base = base.rstrip("/")
        self.headers = {"X-Modelyard-User": user} if user else {}

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        url = self.base + path
        try:
            if method == "GET":
                response = httpx.get(url, params=body, headers=self.headers, timeout=30)
            else:
                response = httpx.request(
                    method, url, json=body or {}, headers=self.headers, timeout=30
                )
        except httpx.HTTPError as err:
            raise click.ClickException(f"cannot reach {self.base}: {err}") from None
        try:
            payload = response.json()
        except ValueError:
            payload = {}
        if response.status_code != 200:
            code = payload.get("error_code", f"HTTP {response.status_code}")
            raise click.ClickException(f"{code}: {payload.get('message', response.text[:200])}")
        return payload


def _table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    cells = [[str(h) for h in headers], *[["" if c is None else str(c) for c in r] for r in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _when(ms: object) -> str:
    if not isinstance(ms, int):
        return ""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S")


@click.group("models")
@click.option(
    "--tracking-uri",
    envvar="MLFLOW_TRACKING_URI",
    default=DEFAULT_TRACKING_URI,
    show_default=True,
    help="The registry server (default $MLFLOW_TRACKING_URI).",
)
@click.option("--user", default=None, help="Who makes the change (recorded in the history).")
@click.pass_context
def models_group(ctx: click.Context, tracking_uri: str, user: str | None) -> None:
    """Operate a model registry: list, promote, alias, history, roll back."""
    if not tracking_uri.startswith(("http://", "https://")):
        raise click.ClickException(f"--tracking-uri must be an http(s) URL, got {tracking_uri!r}")
    ctx.obj = _Server(tracking_uri, user if user is not None else _login_name())


def _login_name() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return ""


@models_group.command("list")
@click.option(
    "--filter", "filter_string", default="", help="MLflow filter, e.g. \"name LIKE 'a%'\"."
)
@click.pass_obj
def list_models(server: _Server, filter_string: str) -> None:
    """List registered models with their Production/Staging versions and aliases."""
    rows: list[list[object]] = []
    token = ""
    while True:
        query = {"filter": filter_string, "max_results": 1000, "page_token": token}
        page = server.call("GET", f"{API}/registered-models/search", query)
        for model in page.get("registered_models", []):
            latest = {v["current_stage"]: v["version"] for v in model.get("latest_versions", [])}
            aliases = ", ".join(f"{a['alias']}={a['version']}" for a in model.get("aliases", []))
            rows.append(
                [
                    model["name"],
                    latest.get("Production", ""),
                    latest.get("Staging", ""),
                    aliases,
                    _when(model.get("last_updated_timestamp")),
                ]
            )
        token = page.get("next_page_token", "")
        if not token:
            break
    click.echo(_table(["NAME", "PRODUCTION", "STAGING", "ALIASES", "UPDATED"], rows))


@models_group.command("versions")
@click.argument("name")
@click.pass_obj
def list_versions(server: _Server, name: str) -> None:
    """List the versions of model NAME, newest first."""
    aliases: dict[str, list[str]] = {}
    model = server.call("GET", f"{API}/registered-models/get", {"name": name})
    for alias in model["registered_model"].get("aliases", []):
        aliases.setdefault(alias["version"], []).append(alias["alias"])
    quoted = f'"{name}"' if "'" in name else f"'{name}'"
    query = {"filter": f"name = {quoted}", "order_by": ["version_number DESC"]}
    page = server.call("GET", f"{API}/model-versions/search", query)
    rows = [
        [
            v["version"],
            v["current_stage"],
            ", ".join(aliases.get(v["version"], [])),
            v.get("run_id", ""),
            v.get("source", ""),
            _when(v.get("creation_timestamp")),
        ]
        for v in page.get("model_versions", [])
    ]
    click.echo(_table(["VERSION", "STAGE", "ALIASES", "RUN", "SOURCE", "CREATED"], rows))


@models_group.command("promote")
@click.argument("name")
@click.argument("version")
@click.argument("stage")
@click.option("--archive-existing", is_flag=True, help="Archive the versions now in STAGE.")
@click.option("--comment", default="", help="Recorded in the history.")
@click.pass_obj
def promote(
    server: _Server, name: str, version: str, stage: str, archive_existing: bool, comment: str
) -> None:
    """Move VERSION of model NAME to STAGE (None, Staging, Production, Archived)."""
    body = {
        "name": name,
        "version": version,
        "stage": stage,
        "archive_existing_versions": archive_existing,
        "comment": comment,
    }
    moved = server.call("POST", f"{API}/model-versions/transition-stage", body)["model_version"]
    click.echo(f"{name} version {moved['version']} is now in {moved['current_stage']}.")


@models_group.command("set-alias")
@click.argument("name")
@click.argument("alias")
@click.argument("version")
@click.option("--comment", default="", help="Recorded in the history.")
@click.pass_obj
def set_alias(server: _Server, name: str, alias: str, version: str, comment: str) -> None:
    """Point ALIAS of model NAME at VERSION (moving it if it exists)."""
    body = {"name": name, "alias": alias, "version": version, "comment": comment}
    server.call("POST", f"{API}/registered-models/alias", body)
    click.echo(f"{name}@{alias} -> version {version}.")


@models_group.command("delete-alias")
@click.argument("name")
@click.argument("alias")
@click.option("--comment", default="", help="Recorded in the history.")
@click.pass_obj
def delete_alias(server: _Server, name: str, alias: str, comment: str) -> None:
    """Remove ALIAS from model NAME."""
    body = {"name": name, "alias": alias, "comment": comment}
    server.call("DELETE", f"{API}/registered-models/alias", body)
    click.echo(f"{name}@{alias} deleted.")


@models_group.command("history")
@click.argument("name")
@click.option("--max-results", default=50, show_default=True, help="How many entries.")
@click.pass_obj
def history(server: _Server, name: str, max_results: int) -> None:
    """Show the stage changes and alias moves of model NAME, newest first."""
    query = {"name": name, "max_results": max_results}
    page = server.call("GET", f"{OURS}/registered-models/history", query)
    click.echo(_table(_HISTORY_HEADERS, [_history_row(e) for e in page.get("transitions", [])]))


_HISTORY_HEADERS = ["ID", "WHEN", "VERSION", "WHAT", "FROM", "TO", "USER", "COMMENT"]


def _history_row(entry: dict[str, Any]) -> list[object]:
    what = f"alias {entry['alias']}" if entry["kind"] == "alias" else "stage"
    comment = entry.get("comment", "")
    if entry.get("rollback_of"):
        comment = f"rollback of {entry['rollback_of']} {comment}".strip()
    return [
        entry["id"],
        _when(entry["timestamp"]),
        entry.get("version") or "",
        what,
        entry["from"] or "-",
        entry["to"] or "-",
        entry["user_id"],
        comment,
    ]


@models_group.command("rollback")
@click.argument("name")
@click.option("--stage", default="", help="Give this stage back to its previous holder.")
@click.option("--alias", default="", help="Give this alias back to its previous version.")
@click.option("--comment", default="", help="Recorded in the history.")
@click.pass_obj
def rollback(server: _Server, name: str, stage: str, alias: str, comment: str) -> None:
    """Undo the last change of a stage or an alias of model NAME."""
    if bool(stage) == bool(alias):
        raise click.UsageError("give exactly one of --stage and --alias")
    body = {"name": name, "stage": stage, "alias": alias, "comment": comment}
    recorded = server.call("POST", f"{OURS}/registered-models/rollback", body)["transitions"]
    click.echo(_table(_HISTORY_HEADERS, [_history_row(e) for e in recorded]))


@models_group.command("digest")
@click.argument("name", required=False)
@click.argument("version", required=False)
@click.option(
    "--backfill",
    is_flag=True,
    help="Record a digest for every version that has none, from its files as they are now.",
)
@click.option("--backend-store-uri", "database_url", default=None, help="Database (--backfill).")
@click.option(
    "--artifacts-destination", "artifact_root", default=None, help="Artifact root (--backfill)."
)
@click.option("--dry-run", is_flag=True, help="With --backfill: print, record nothing.")
@click.pass_obj
def digest(
    server: _Server,
    name: str | None,
    version: str | None,
    backfill: bool,
    database_url: str | None,
    artifact_root: str | None,
    dry_run: bool,
) -> None:
    """Print the recorded digest of model NAME's VERSION, or backfill missing digests.

    --backfill works on the database and artifact store directly (like gc), not over HTTP: the
    operator vouches for the files as they are now.
    """
    if backfill == bool(name and version):
        raise click.UsageError("give NAME and VERSION, or --backfill")
    if not backfill:
        query = {"name": name, "version": version}
        found = server.call("GET", f"{OURS}/model-versions/get-digest", query)
        click.echo(found.get("model_digest") or "(none recorded)")
        return
    for line in _backfill(database_url, artifact_root, dry_run):
        click.echo(line)


def _backfill(database_url: str | None, artifact_root: str | None, dry_run: bool) -> list[str]:
    from registry.artifacts import open_artifact_store
    from registry.cli.preflight import prepare_database
    from registry.config import Config
    from registry.services.versions import backfill_digests
    from registry.store import open_database

    config = Config.from_env(database_url=database_url, artifact_root=artifact_root)
    prepare_database(config)
    database = open_database(config.database_url)
    with database.connection_context():
        done = backfill_digests(config, open_artifact_store(config), dry_run=dry_run)
    verb = "Would record" if dry_run else "Recorded"
    lines = [
        f"{verb} {d.name} version {d.version}: {d.digest}"
        if d.digest
        else f"Skipped {d.name} version {d.version}: no model files at its source"
        for d in done
    ]
    count = sum(1 for d in done if d.digest)
    return [*lines, f"{verb} {count} digests; {len(done) - count} versions have no model files."]


commands = (models_group,)
