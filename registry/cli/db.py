"""``modelyard db upgrade|downgrade``: apply or undo schema migrations."""

from __future__ import annotations

from collections.abc import Callable

import click

from registry.config import Config
from registry.errors import RegistryError
from registry.store.migrate import (
    LATEST_VERSION,
    current_version,
    downgrade,
    downgrade_plan,
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

    def run() -> str:
        applied = upgrade()
        version = current_version()
        if applied:
            return f"Applied migrations {applied}; schema at version {version}."
        return f"Schema already at version {version} (latest {LATEST_VERSION}); nothing to do."

    _on_schema(database_url or url, run)


@db_group.command("downgrade")
@_URI_OPTION
@click.option(
    "--to",
    "target",
    type=click.IntRange(0, LATEST_VERSION),
    required=True,
    help="Schema version to go back to (0 drops every table).",
)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation (for scripts).")
@click.argument("url", required=False)
def downgrade_command(database_url: str | None, target: int, yes: bool, url: str | None) -> None:
    """Undo the migrations above version TO, newest first (their tables and columns go too).

    Lists the migrations it will undo and asks before going on, unless --yes is given.
    """

    def run() -> str:
        plan = downgrade_plan(target)
        if not plan:
            return f"Schema already at version {current_version()}; nothing to undo."
        click.echo(
            f"Downgrading to version {target} undoes these migrations, dropping the tables and"
            " columns they added with the data in them:"
        )
        for number, name in plan:
            click.echo(f"  {number}  {name}")
        if not yes:
            click.confirm("Continue?", default=False, abort=True)
        undone = downgrade(target)
        return f"Undid migrations {undone}; schema at version {current_version()}."

    _on_schema(database_url or url, run)


def _on_schema(database_url: str | None, run: Callable[[], str]) -> None:
    """Run ``run`` on the configured database's schema, then print the line it returns."""
    config = Config.from_env(database_url=database_url)
    try:
        with schema_session(config.database_url, config.database_connect_timeout_seconds):
            message = run()
    except RegistryError as err:
        raise click.ClickException(err.message) from None
    click.echo(message)


commands = (db_group,)
