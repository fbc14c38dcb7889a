"""Small helpers for reading rows of MLflow's tables as plain tuples."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import peewee

IN_CHUNK = 500
"""Ids per ``IN (...)`` list: small enough for every engine's parameter limit."""


def fetch(query: Any) -> list[tuple[Any, ...]]:
    """The rows of a peewee query as tuples."""
    return list(query.tuples())


def chunked(ids: Sequence[Any], query: Callable[[list[Any]], Any]) -> Iterator[tuple[Any, ...]]:
    """The rows of ``query(chunk)`` for each chunk of ``ids``."""
    for start in range(0, len(ids), IN_CHUNK):
        chunk = list(ids[start : start + IN_CHUNK])
        if chunk:
            yield from fetch(query(chunk))


def execute(database: peewee.Database, sql: str) -> None:
    """Run one constant statement (transaction control)."""
    database.execute_sql(sql)  # type: ignore[no-untyped-call]
