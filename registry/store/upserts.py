"""Upserts that stay correct with concurrent writers on SQLite, PostgreSQL and MySQL.

A plain upsert is ``ON CONFLICT (key) DO UPDATE`` on SQLite and PostgreSQL, ``ON DUPLICATE KEY
UPDATE`` on MySQL (which cannot name the key, and needs none here: each table upserted has one
unique key, its primary key), written by ``registry.store.bulk`` with the SQL built once. The
latest-metric upsert replaces a row only with a newer point. On SQLite and PostgreSQL that is
one statement for a whole batch, ``ON CONFLICT (run, key) DO UPDATE ... WHERE`` the incoming
point is newer (a row-value comparison), with no read before it. MySQL's ``ON DUPLICATE KEY
UPDATE`` has no ``WHERE`` (and its assignments see each other), so there it is spelt portably:
update if newer, insert the rest with insert-or-ignore, and update again anything a concurrent
writer inserted in between.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, cast

import peewee

from registry.store import engine_name
from registry.store.bulk import Conflict, insert_rows
from registry.store.models import LatestMetric


def upsert_rows(
    model: Any,
    rows: Sequence[dict[str, Any]],
    key: Sequence[peewee.Field],
    update: Sequence[peewee.Field],
) -> None:
    """Insert ``rows`` into ``model``; where one's ``key`` exists, overwrite its ``update`` fields.

    ``key`` must be the table's only unique key (MySQL matches any). Rows are written in key
    order, so concurrent upserts of overlapping rows lock them in the same order.
    """
    if not rows:
        return
    names = [field.name for field in key]
    ordered = sorted(rows, key=lambda row: tuple(str(row[name]) for name in names))
    target = None if engine_name() == "mysql" else list(key)
    model.insert_many(ordered).on_conflict(conflict_target=target, preserve=list(update)).execute()


def upsert_key_values(
    model: Any, owner: peewee.ForeignKeyField, owner_id: Any, values: dict[str, str]
) -> None:
    """Set ``key -> value`` rows of ``model`` (a tag or param table) for one owner."""
    rows = [(owner_id, key, value) for key, value in sorted(values.items())]
    overwrite = Conflict(key=(owner.name, "key"), update=("value",))
    insert_rows(model, (owner.name, "key", "value"), rows, overwrite)


def record_latest_metrics(
    run_id: str, experiment_id: int, points: dict[str, dict[str, Any]]
) -> None:
    """Make ``latest_metrics`` reflect ``points`` (the newest point of each key in a write).

    ``points`` maps a key to ``{value, value_kind, timestamp, step}``. A stored point is replaced
    only by one with a higher step, then a higher timestamp, then a higher value. A new row
    gets ``experiment_id``, the run's experiment (a run never changes it).
    """
    if not points:
        return
    if engine_name() != "mysql":
        newest = [
            (run_id, key, p["value"], p["value_kind"], p["timestamp"], p["step"], experiment_id)
            for key, p in sorted(points.items())
        ]
        insert_rows(LatestMetric, _LATEST_COLUMNS, newest, _REPLACE_IF_NEWER)
        return
    if len(points) == 1:
        ((key, point),) = points.items()
        _record_one(run_id, experiment_id, key, point)
        return
    query = (
        LatestMetric.select(
            LatestMetric.key, LatestMetric.step, LatestMetric.timestamp, LatestMetric.value
        )
        .where(LatestMetric.run == run_id, LatestMetric.key.in_(list(points)))
        .tuples()
    )
    found = cast(Iterable[tuple[Any, ...]], query)
    existing: dict[str, tuple[Any, ...]] = {row[0]: tuple(row[1:]) for row in found}
    for key, point in points.items():
        if key in existing and _sort_key(point) > tuple(existing[key]):
            _update_if_newer(run_id, key, point)
    missing = [key for key in points if key not in existing]
    if not missing:
        return
    rows = [
        {"run": run_id, "key": key, "experiment_id": experiment_id, **points[key]}
        for key in missing
    ]
    inserted = LatestMetric.insert_many(rows).on_conflict_ignore().as_rowcount().execute()
    if inserted < len(missing):
        for key in missing:
            _update_if_newer(run_id, key, points[key])


_LATEST_COLUMNS = ("run", "key", "value", "value_kind", "timestamp", "step", "experiment_id")
_REPLACE_IF_NEWER = Conflict(
    key=("run", "key"),
    update=("value", "value_kind", "timestamp", "step"),
    where='(excluded."step", excluded."timestamp", excluded."value") >= '
    '("latest_metrics"."step", "latest_metrics"."timestamp", "latest_metrics"."value")',
)
"""One upsert on SQLite and PostgreSQL: a stored point is replaced only by a newer one."""


def _record_one(run_id: str, experiment_id: int, key: str, point: dict[str, Any]) -> None:
    # The common single-point write: usually one conditional UPDATE and nothing else.
    if _update_if_newer(run_id, key, point):
        return
    row = {"run": run_id, "key": key, "experiment_id": experiment_id, **point}
    if LatestMetric.insert(row).on_conflict_ignore().as_rowcount().execute():
        return
    _update_if_newer(run_id, key, point)


def _sort_key(point: dict[str, Any]) -> tuple[int, int, float]:
    return (point["step"], point["timestamp"], point["value"])


def _update_if_newer(run_id: str, key: str, point: dict[str, Any]) -> int:
    step, timestamp, value = point["step"], point["timestamp"], point["value"]
    older = (
        (LatestMetric.step < step)
        | ((LatestMetric.step == step) & (LatestMetric.timestamp < timestamp))
        | (
            (LatestMetric.step == step)
            & (LatestMetric.timestamp == timestamp)
            & (LatestMetric.value <= value)
        )
    )
    updated: int = (
        LatestMetric.update(**point)
        .where(LatestMetric.run == run_id, LatestMetric.key == key, older)
        .execute()
    )
    return updated
