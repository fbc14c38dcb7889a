"""Fixtures for store tests: the models bound to a real database on each engine."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from registry.store import open_database


@pytest.fixture
def bound(db_url: str) -> Iterator[None]:
    """The store bound to ``db_url`` with a connection open for the test."""
    database = open_database(db_url)
    with database.connection_context():
        yield
    getattr(database, "close_all", database.close)()
