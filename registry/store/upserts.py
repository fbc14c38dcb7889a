"""Portable upserts that stay correct with concurrent writers on SQLite, PostgreSQL and MySQL.

Each engine spells "insert or update" differently (and MySQL cannot name a conflict target), so
these use what all three share: update what exists, insert the rest with insert-or-ignore, and
update again anything a concurrent writer inserted in between.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

import peewee

from registry.store.models import LatestMetric


def upsert_key_values(
    model: Any, owner: peewee.ForeignKeyField, owner_id: Any, values: dict[str, str]
) -> None:
    """Set ``key -> value`` rows of ``model`` (a tag or param table) for one owner."""
    if not values:
        return
    owned = owner == owner_id
    existing = dict(
        model.select(model.key, model.value).where(owned, model.key.in_(list(values))).tuples()
    )
    for key, value in values.items():
        if key in existing and existing[key] != value:
            model.update(value=value).where(owned, model.key == key).execute()
    missing = [key for key in values if key not in existing]
    if not missing:
        return
    rows = [{owner.name: owner_id, "key": key, "value": values[key]} for key in missing]
    inserted = model.insert_many(rows).on_conflict_ignore().as_rowcount().execute()
    if inserted < len(missing):
        for key in missing:
            model.update(value=values[key]).where(owned, model.key == key).execute()


def record_latest_metrics(run_id: str, points: dict[str, dict[str, Any]]) -> None:
    """Make ``latest_metrics`` reflect ``points`` (the newest point of each key in a write).

    ``points`` maps a key to ``{value, value_kind, timestamp, step}``. A stored point is replaced
    only by one with a higher step, then a higher timestamp, then a higher value.
    """
    if not points:
        return
    if len(points) == 1:
        ((key, point),) = points.items()
        _record_one(run_id, key, point)
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
    rows = [{"run": run_id, "key": key, **points[key]} for key in missing]
    inserted = LatestMetric.insert_many(rows).on_conflict_ignore().as_rowcount().execute()
    if inserted < len(missing):
        for key in missing:
            _update_if_newer(run_id, key, points[key])


def _record_one(run_id: str, key: str, point: dict[str, Any]) -> None:
    # The common single-point write: usually one conditional UPDATE and nothing else.
    if _update_if_newer(run_id, key, point):
        return
    row = {"run": run_id, "key": key, **point}
    if LatestMetric.insert(row).on_conflict_ignore().as_rowcount().execute():
        return
    _update_if_newer(run_id, key, point)


def _sort_key(point: dict[str, Any]) -> tuple[int, int, float]:
    return (point["step"], point["timestamp"], point["value"])


def newest_point(current: dict[str, Any] | None, candidate: dict[str, Any]) -> dict[str, Any]:
    """The later of two points by (step, timestamp, value)."""
    if current is None or _sort_key(candidate) >= _sort_key(current):
        return candidate
    return current


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
