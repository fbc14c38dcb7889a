"""``modelyard import mlflow``: bring an MLflow deployment's data in with ids and history kept."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import click

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
    """Progress on stderr: a bar per table, and a bar per artifact tree that moves per byte.

    Both draw on one line: while a tree is copied its bytes bar stands in for the table bar,
    which comes back as the next entity lands.
    """

    def __init__(self) -> None:
        self._table: Any = None
        self._bytes: Any = None
        self._copied = 0

    def _open(self, length: int, label: str, show: Any) -> Any:
        bar = click.progressbar(
            length=length, label=f"{label:<18}", file=sys.stderr, item_show_func=show
        )
        bar.__enter__()
        return bar

    def start(self, table: str, total: int) -> None:
        self.close()
        if total:
            self._table = self._open(total, table, lambda _: f"{self._copied / 1e6:.1f} MB copied")

    def advance(self, table: str, count: int = 1) -> None:
        self._bytes = None  # the table bar draws over it
        if self._table is not None:
            self._table.update(count, table)

    def artifacts(self, total: int) -> None:
        self._bytes = None
        if total:
            mb = total / 1e6
            self._bytes = self._open(
                total, "artifact bytes", lambda _: f"{self._bytes_pos() / 1e6:.1f}/{mb:.1f} MB"
            )

    def _bytes_pos(self) -> int:
        return int(self._bytes.pos) if self._bytes is not None else 0

    def bytes(self, count: int) -> None:
        self._copied += count
        if self._bytes is not None:
            self._bytes.update(count, "")

    def close(self) -> None:
        self._bytes = None
        if self._table is not None:
            self._table.__exit__(None, None, None)
            self._table = None


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
@click.option(
    "--to",
    "target_uri",
    required=True,
    help="Modelyard database URI, or a running Modelyard server's http(s):// URL.",
)
@click.option(
    "--to-artifacts",
    default=None,
    help=f"Artifact root the Modelyard server serves (default {DEFAULT_ARTIFACT_ROOT}; with an"
    " http(s):// --to, the server's artifact proxy).",
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
    from registry.importers.runner import ImportOptions
    from registry.store.mlflow_source import DATABASE_ERRORS

    options = ImportOptions(
        artifacts=mode,
        from_artifacts=from_artifacts,
        proxy_source=_is_url(source_uri) and not from_artifacts,
        dry_run=dry_run,
        since=_since(since),
    )
    bars = _Bars()
    try:
        source, open_tree = _open_source(source_uri, workspace, from_s3_endpoint_url)
        options = replace(options, open_tree=open_tree)
        try:
            if _is_url(target_uri):
                report = _into_server(source, target_uri, to_artifacts, options, bars)
            else:
                report = _into_database(source, target_uri, to_artifacts, options, bars)
        finally:
            bars.close()
            source.close()
    except RegistryError as err:
        raise click.ClickException(err.message) from None
    except DATABASE_ERRORS as err:
        raise click.ClickException(f"database error: {err}") from None
    _print(report, source.description)


def _is_url(uri: str) -> bool:
    return uri.startswith(("http://", "https://"))


def _into_database(
    source: Any, target_uri: str, to_artifacts: str | None, options: Any, bars: _Bars
) -> ImportReport:
    from registry.artifacts import open_artifact_store
    from registry.importers.runner import run_import
    from registry.importers.target import StoreTarget

    config = Config.from_env(database_url=target_uri, artifact_root=to_artifacts)
    with _target(config.database_url):
        dest = open_artifact_store(config) if _copies(options) else None
        target = StoreTarget(config.database_url, config, dest)
        return run_import(source, target, replace(options, dest=dest), bars)


def _into_server(
    source: Any, url: str, to_artifacts: str | None, options: Any, bars: _Bars
) -> ImportReport:
    """Import through the server's import API; artifacts through its proxy by default."""
    from registry.artifacts import open_artifact_store
    from registry.client.transport import Transport
    from registry.importers.http_target import ProxyDestination, ServerTarget
    from registry.importers.runner import run_import

    target = ServerTarget(url, Transport(url))
    proxy = ProxyDestination(target.transport)
    try:
        dest: Any = None
        if _copies(options):
            dest = proxy
            if to_artifacts:
                dest = open_artifact_store(Config.from_env(artifact_root=to_artifacts))
        return run_import(source, target, replace(options, dest=dest), bars)
    finally:
        proxy.close()
        target.close()


def _copies(options: Any) -> bool:
    return bool(options.artifacts == "copy" and not options.dry_run)


def _open_source(uri: str, workspace: str, s3_endpoint_url: str | None) -> tuple[Any, Any]:
    from registry.importers.artifact_copy import local_or_s3_tree
    from registry.importers.mlflow_rest import MlflowServer
    from registry.store.mlflow_source import is_database_uri, open_mlflow_database

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
