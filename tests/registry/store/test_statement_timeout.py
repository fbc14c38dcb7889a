"""REGISTRY_STATEMENT_TIMEOUT_MS: the database cancels a statement that runs too long."""

from __future__ import annotations

from collections.abc import Iterator

import peewee
import pytest

from registry.config import Config
from registry.errors import TemporarilyUnavailable
from registry.store import close_database, database_error, open_database
from registry.store.connections import is_statement_timeout
from tests import databases

SLEEP = {"postgres": "SELECT pg_sleep(%s)", "mysql": "SELECT SLEEP(%s)"}


@pytest.fixture(params=["postgres", "mysql"])
def engine_url(request: pytest.FixtureRequest, server_databases: dict[str, str]) -> Iterator[str]:
    url = server_databases[request.param]
    if url.startswith("error:"):
        databases.unavailable(request.param, RuntimeError(url))
    yield url


def _sleep(database: peewee.Database, url: str, seconds: float) -> None:
    engine = "postgres" if url.startswith("postgres") else "mysql"
    with database.connection_context():
        database.execute_sql(SLEEP[engine], (seconds,))


def test_a_statement_over_the_timeout_is_cancelled_as_a_503(engine_url: str) -> None:
    database = open_database(engine_url, statement_timeout_ms=200)
    try:
        with pytest.raises(peewee.OperationalError) as cancelled:
            _sleep(database, engine_url, 5)
        assert is_statement_timeout(cancelled.value)
        assert isinstance(database_error(cancelled.value), TemporarilyUnavailable)
        # The pooled connection stays usable, and keeps its limit.
        with database.connection_context():
            assert database.execute_sql("SELECT 1").fetchone()[0] == 1
        with pytest.raises(peewee.OperationalError):
            _sleep(database, engine_url, 5)
    finally:
        close_database(database)


def test_statements_under_the_timeout_run(engine_url: str) -> None:
    database = open_database(engine_url, statement_timeout_ms=5000)
    try:
        _sleep(database, engine_url, 0.3)
    finally:
        close_database(database)


def test_the_setting_defaults_to_30_seconds_and_reads_the_environment() -> None:
    assert Config().statement_timeout_ms == 30000
    environ = {"REGISTRY_STATEMENT_TIMEOUT_MS": "0"}
    assert Config.from_env(environ).statement_timeout_ms == 0
