"""``modelyard db upgrade``: apply pending schema migrations."""

from __future__ import annotations

import click
import peewee

from registry.config import Config
from registry.errors import InvalidParameter
from registry.store import close_database, open_database, use_database
from registry.store.migrate import LATEST_VERSION, current_version, upgrade


@click.group("db")
def db_group() -> None:
    """Manage the database schema."""


@db_group.command("upgrade")
@click.option("--backend-store-uri", "database_url", default=None, help="Database URI.")
@click.argument("url", required=False)
def upgrade_command(database_url: str | None, url: str | None) -> None:
    """Apply every pending migration (safe to run again: it then does nothing)."""
    config = Config.from_env(database_url=database_url or url)
    try:
        database = open_database(
            config.database_url, connect_timeout=config.database_connect_timeout_seconds
        )
        try:
            with use_database(database), database.connection_context():
                applied = upgrade()
                version = current_version()
        finally:
            close_database(database)
    except InvalidParameter as err:
        raise click.ClickException(err.message) from None
    except (peewee.OperationalError, peewee.InterfaceError, peewee.ImproperlyConfigured) as err:
        raise click.ClickException(
            f"cannot open the database {config.database_url}: {str(err).strip() or err!r}"
        ) from None
    if applied:
        click.echo(f"Applied migrations {applied}; schema at version {version}.")
    else:
        click.echo(f"Schema already at version {version} (latest {LATEST_VERSION}); nothing to do.")


commands = (db_group,)
