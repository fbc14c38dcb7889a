"""Checks before a server starts: the database answers and its schema is current."""

from __future__ import annotations

import click

from registry.config import Config
from registry.errors import RegistryError
from registry.store.migrate import check_schema, current_version, schema_session, upgrade


def prepare_database(config: Config) -> None:
    """Connect, initialise an empty database, refuse an out-of-date one.

    Every connection it opened is closed before it returns: the server forks its workers next,
    and a connection inherited across ``fork()`` is how a SQLite file gets corrupted.

    Raises:
        click.ClickException: with one line saying what is wrong and what to run.
    """
    try:
        with schema_session(config.database_url, config.database_connect_timeout_seconds):
            if current_version() == 0:
                upgrade()
            check_schema()
    except RegistryError as err:
        raise click.ClickException(err.message) from None
