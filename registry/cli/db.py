"""``modelyard db upgrade|downgrade``: apply or undo schema migrations."""

from __future__ import annotations

import click

from registry.config import Config
from registry.errors import RegistryError
from registry.store.migrate import (
    LATEST_VERSION,
    current_version,
    downgrade,
    schema_session,
    upgrade,
)

_URI_OPTION = click.option(
    "--backend-store-uri", "database_url", default=None, help="Database URI."
)


@click.group("db")
def db_group() -> None:
    """Manage the database schema."""


@db_group.command("upgrade")
@_URI_OPTION
@click.argument("url", required=False)
def upgrade_command(database_url: str | None, url: str | None) -> None:
    """Apply every pending migration (safe to run again: it then does nothing)."""
    config = Config.from_env(database_url=database_url or url)
    try:
        with schema_session(config.database_url, config.database_connect_timeout_seconds):
            applied = upgrade()
            version = current_version()
    except RegistryError as err:
        raise click.ClickException(err.message) from None
    if applied:
        click.echo(f"Applied migrations {applied}; schema at version {version}.")
    else:
        click.echo(f"Schema already at version {version} (latest {LATEST_VERSION}); nothing to do.")


@db_group.command("downgrade")
@_URI_OPTION
@click.option(
    "--to",
    "target",
    type=click.IntRange(0, LATEST_VERSION),
    required=True,
    help="Schema version to go back to (0 drops every table).",
)
@click.argument("url", required=False)
def downgrade_command(database_url: str | None, target: int, url: str | None) -> None:
    """Undo the migrations above version TO, newest first (their tables and columns go too)."""
    config = Config.from_env(database_url=database_url or url)
    try:
        with schema_session(config.database_url, config.database_connect_timeout_seconds):
            undone = downgrade(target)
            version = current_version()
    except RegistryError as err:
        raise click.ClickException(err.message) from None
    if undone:
        click.echo(f"Undid migrations {undone}; schema at version {version}.")
    else:
        click.echo(f"Schema already at version {version}; nothing to undo.")


commands = (db_group,)
