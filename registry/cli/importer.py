"""``modelyard import mlflow``: bring an MLflow deployment's data in with ids and history kept."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import click
import peewee

from registry.config import DEFAULT_ARTIFACT_ROOT, Config
from registry.errors import RegistryError
from registry.importers.report import ImportReport


@click.group("import")
def import_group() -> None:
    """Import data from another tracking server."""


def _since(value: str | None) -> int | None:
    if value is None:
        return None
    if value.isdigit():
        return int(value)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r}: use milliseconds since the epoch or an ISO date such as 2024-05-01"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


class _Bars:
    """A progress bar per table on stderr; its label counts the artifact bytes copied."""

    def __init__(self) -> None:
        self._bar: Any = None
        self._bytes = 0

    def start(self, table: str, total: int) -> None:
        self.close()
        if total:
            self._bar = click.progressbar(
                length=total,
                label=f"{table:<18}",
                file=sys.stderr,
                item_show_func=lambda _: f"{self._bytes / 1e6:.1f} MB artifacts",
            )
            self._bar.__enter__()

    def advance(self, table: str, count: int = 1) -> None:
        if self._bar is not None:
            self._bar.update(count, table)

    def bytes(self, count: int) -> None:
        self._bytes += count
        if self._bar is not None:
            self._bar.update(0, "")

    def close(self) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
            self._bar = None


@contextmanager
def _target(url: str) -> Iterator[None]:
    from registry.store import close_database, open_database, use_database
    from registry.store.migrate import check_schema, current_version, upgrade

    database = open_database(url)
    try:
        with use_database(database), database.connection_context():
            if current_version() == 0:
                upgrade()
            check_schema()
            yield
    finally:
        close_database(database)


@import_group.command("mlflow")
@click.option(
    "--from",
    "source_uri",
    required=True,
    help="MLflow backend database URI, or a running MLflow server's http(s):// URL.",
)
@click.option(
    "--from-artifacts",
    default=None,
    help="Folder or s3:// prefix behind the source's mlflow-artifacts:/ URIs.",
)
@click.option("--from-s3-endpoint-url", default=None, help="S3 endpoint of the source.")
@click.option("--to", "target_uri", required=True, help="Modelyard database URI.")
@click.option(
    "--to-artifacts",
    default=None,
    help=f"Artifact root the Modelyard server serves (default {DEFAULT_ARTIFACT_ROOT}).",
)
@click.option(
    "--artifacts",
    "mode",
    type=click.Choice(["copy", "keep"]),
    default="copy",
    show_default=True,
    help="Copy artifacts under --to-artifacts, or keep their URIs and leave them in place.",
)
@click.option("--dry-run", is_flag=True, help="Print what would be imported; write nothing.")
@click.option("--since", default=None, help="Only what changed since (ms or ISO date).")
@click.option("--workspace", default="default", show_default=True, help="MLflow workspace.")
def mlflow_command(
    source_uri: str,
    from_artifacts: str | None,
    from_s3_endpoint_url: str | None,
    target_uri: str,
    to_artifacts: str | None,
    mode: str,
    dry_run: bool,
    since: str | None,
    workspace: str,
) -> None:
    """Import an MLflow deployment: ids, times, metric histories, registry and artifacts."""
    from registry.artifacts import open_artifact_store
    from registry.importers.runner import ImportOptions, run_import

    if target_uri.startswith(("http://", "https://")):
        raise click.UsageError(
            "--to takes the Modelyard server's database URI (the server may keep running)."
        )
    config = Config.from_env(database_url=target_uri, artifact_root=to_artifacts)
    bars = _Bars()
    try:
        source, open_tree = _open_source(source_uri, workspace, from_s3_endpoint_url)
        try:
            with _target(config.database_url):
                options = ImportOptions(
                    artifacts=mode,
                    from_artifacts=from_artifacts,
                    dest=open_artifact_store(config) if mode == "copy" and not dry_run else None,
                    open_tree=open_tree,
                    proxy_source=source_uri.startswith(("http://", "https://"))
                    and not from_artifacts,
                    dry_run=dry_run,
                    since=_since(since),
                    config=config,
                )
                report = run_import(source, options, bars)
        finally:
            bars.close()
            source.close()
    except RegistryError as err:
        raise click.ClickException(err.message) from None
    except (peewee.OperationalError, peewee.InterfaceError) as err:
        raise click.ClickException(f"database error: {err}") from None
    _print(report, source.description)


def _open_source(uri: str, workspace: str, s3_endpoint_url: str | None) -> tuple[Any, Any]:
    from registry.importers.artifact_copy import local_or_s3_tree
    from registry.importers.mlflow_db import is_database_uri, open_mlflow_database
    from registry.importers.mlflow_rest import MlflowServer

    files = local_or_s3_tree(s3_endpoint_url)
    if uri.startswith(("http://", "https://")):
        server = MlflowServer(uri)
        return server, server.tree_opener(files)
    if not is_database_uri(uri):
        raise click.UsageError(f"--from {uri!r}: give an MLflow database URI or server URL.")
    return open_mlflow_database(uri, workspace), files


def _print(report: ImportReport, description: str) -> None:
    click.echo(f"{'Dry run: nothing written. ' if report.dry_run else ''}Source: {description}")
    for line in report.lines():
        click.echo(line)
    if not report.ok:
        raise click.ClickException("the import is incomplete: see the failures above")


commands = (import_group,)
