"""A sampled bulk history reads only the points it answers, on every engine."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import pytest

from registry.store import db
from registry.store.metric_history_bulk import get_history_bulk_interval
from registry.store.metrics import MetricPoint
from registry.store.models import VALUE_NAN
from registry.store.run_data import log_batch
from tests.factories import make_experiment, make_run


class _CountingCursor:
    """A DB-API cursor that counts the rows the database hands over."""

    def __init__(self, cursor: Any, counts: list[int]) -> None:
        self._cursor, self._counts = cursor, counts

    def __iter__(self) -> Iterator[Any]:
        for row in self._cursor:
            self._counts.append(1)
            yield row

    def fetchall(self) -> list[Any]:
        rows = list(self._cursor.fetchall())
        self._counts.extend([1] * len(rows))
        return rows

    def fetchone(self) -> Any:
        row = self._cursor.fetchone()
        self._counts.extend([1] if row is not None else [])
        return row

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cursor, name)


def test_only_the_picked_points_leave_the_database(
    bound: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    experiment = make_experiment()
    long, short = make_run(experiment), make_run(experiment)
    log_batch(long.run_uuid, metrics=[MetricPoint("m", float(s), 1000 + s, s) for s in range(1000)])
    log_batch(
        short.run_uuid, metrics=[MetricPoint("m", v, 5, s) for s, v in enumerate([1.0, math.nan])]
    )
    database = db.obj
    execute_sql = database.execute_sql
    rows_read: list[int] = []
    monkeypatch.setattr(
        database,
        "execute_sql",
        lambda *args, **kwargs: _CountingCursor(execute_sql(*args, **kwargs), rows_read),
    )

    picked = get_history_bulk_interval([short.run_uuid, long.run_uuid], "m", (None, None), 10)

    assert [p.run_id for p in picked] == [short.run_uuid] * 2 + [long.run_uuid] * 10
    assert [p.step for p in picked[2:]] == [0, 100, 200, 300, 400, 500, 600, 700, 800, 999]
    assert picked[1].value_kind == VALUE_NAN
    assert len(rows_read) == len(picked) == 12
