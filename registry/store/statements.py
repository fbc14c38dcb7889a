"""Fixed-shape statements whose SQL peewee renders once per engine; only the values vary.

Rendering a query through peewee costs more than running a point lookup on SQLite, and the hot
writes (runs/create, log-batch) run the same few statements with new values every time. A
``Statement`` holds a function that builds the query with placeholder values; the SQL text is
rendered the first time each engine runs it, then reused with the call's values as parameters
(so values never enter the SQL text). Multi-row INSERTs have their own builder in
``registry.store.bulk``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import peewee

from registry.store import db, engine_name


class Statement:
    """One query shape: ``build()`` returns it with a placeholder for each value, in order."""

    def __init__(self, build: Callable[[], peewee.Query]) -> None:
        self._build = build
        self._sql: dict[str, tuple[str, int]] = {}

    def sql(self) -> tuple[str, int]:
        """The SQL for the bound database's engine and how many values it takes."""
        engine = engine_name()
        rendered = self._sql.get(engine)
        if rendered is None:
            text, params = self._build().sql()
            rendered = (text, len(params))
            self._sql[engine] = rendered
        return rendered

    def first(self, *values: Any) -> Sequence[Any] | None:
        """The first row (a tuple) the statement returns for ``values``, else None."""
        text, count = self.sql()
        if len(values) != count:
            raise TypeError(f"the statement takes {count} values, got {len(values)}")
        row: Sequence[Any] | None = db.execute_sql(text, values).fetchone()
        return row
