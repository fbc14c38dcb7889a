"""A pooled PostgreSQL connection is lent without a round trip when sound, replaced when dead."""

from __future__ import annotations

from collections.abc import Iterator

import peewee as pw
import psycopg2
import pytest

from registry.store import close_database, open_database

pytestmark = pytest.mark.parametrize("db_url", ["postgres"], indirect=True)


@pytest.fixture
def database(db_url: str) -> Iterator[pw.Database]:
    database = open_database(db_url, pool_size=1)
    yield database
    close_database(database)


def _backend(database: pw.Database, marker: str) -> int:
    """The backend pid of the connection the pool lends, after it ran ``marker``."""
    with database.connection_context():
        pid, _ = database.execute_sql(f"SELECT pg_backend_pid(), '{marker}'").fetchone()
    return int(pid)


def _last_query(admin: psycopg2.extensions.connection, pid: int) -> str:
    cursor = admin.cursor()
    cursor.execute("SELECT query FROM pg_stat_activity WHERE pid = %s", (pid,))
    return str(cursor.fetchone()[0])


def test_a_sound_idle_connection_is_lent_without_a_query(
    database: pw.Database, db_url: str
) -> None:
    pid = _backend(database, "first")
    admin = psycopg2.connect(db_url)
    try:
        with database.connection_context():
            # Taken from the pool: the backend's last statement is still the one before.
            assert "'first'" in _last_query(admin, pid)
            assert database.execute_sql("SELECT pg_backend_pid()").fetchone()[0] == pid
    finally:
        admin.close()


def test_a_connection_whose_backend_was_terminated_is_replaced_not_lent(
    database: pw.Database, db_url: str
) -> None:
    pid = _backend(database, "before")
    admin = psycopg2.connect(db_url)
    admin.autocommit = True
    try:
        cursor = admin.cursor()
        cursor.execute("SELECT pg_terminate_backend(%s, 5000)", (pid,))  # waits until gone
        assert cursor.fetchone()[0] is True
    finally:
        admin.close()
    replacement = _backend(database, "after")  # no error: the dead one was never lent
    assert replacement != pid
