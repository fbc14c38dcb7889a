"""Checks before a server starts: the database answers and its schema is current."""

from __future__ import annotations

import click
import peewee

from registry.config import Config
from registry.errors import InvalidParameter
from registry.store import close_database, open_database, use_database
from registry.store.migrate import SchemaOutOfDate, check_schema, current_version, upgrade


def prepare_database(config: Config) -> None:
    """Connect, initialise an empty database, refuse an out-of-date one.

    Every connection it opened is closed before it returns: the server forks its workers next,
    and a connection inherited across ``fork()`` is how a SQLite file gets corrupted.

    Raises:
        click.ClickException: with one line saying what is wrong and what to run.
    """
    try:
        database = open_database(
            config.database_url, connect_timeout=config.database_connect_timeout_seconds
        )
        try:
            with use_database(database), database.connection_context():
                if current_version() == 0:
                    upgrade()
                check_schema()
        finally:
            close_database(database)
    except SchemaOutOfDate as err:
        raise click.ClickException(err.message) from None
    except InvalidParameter as err:
        raise click.ClickException(err.message) from None
    except (peewee.OperationalError, peewee.InterfaceError, peewee.ImproperlyConfigured) as err:
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise click.ClickException(
            f"cannot open the database {config.database_url}: {reason}"
        ) from None
