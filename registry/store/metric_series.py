"""Metric histories of several runs as chart series, thinned to what a chart can draw."""

from __future__ import annotations

from typing import Any

from registry.store import db
from registry.store.models import VALUE_FINITE, MetricHistory

MAX_POINTS = 2000
"""Metric histories longer than this are thinned (evenly, keeping the last point) for charts."""


def metric_histories(run_ids: list[str]) -> dict[str, Any]:
    """``{key: {run_id: {"step": [...], "time": [...], "value": [...]}}}`` for chart traces.

    NaN and infinite values become None (a gap in the line): JSON has no spelling for them.
    """
    query = (
        MetricHistory.select(
            MetricHistory.run,
            MetricHistory.key,
            MetricHistory.step,
            MetricHistory.timestamp,
            MetricHistory.value,
            MetricHistory.value_kind,
        )
        .where(MetricHistory.run.in_(run_ids))
        .order_by(MetricHistory.run, MetricHistory.key, MetricHistory.step, MetricHistory.timestamp)
    )
    series: dict[str, Any] = {}
    points: dict[str, list[Any]] = {}
    last: tuple[str, str] | None = None
    # Plain DB-API rows in the covering index's order: peewee's per-row conversion would cost
    # more than the query itself for 100 runs with long histories.
    for run_id, key, step, timestamp, value, kind in db.execute(query):
        if (run_id, key) != last:
            last = (run_id, key)
            points = series.setdefault(key, {})[run_id] = {"step": [], "time": [], "value": []}
        points["step"].append(step)
        points["time"].append(timestamp)
        points["value"].append(value if kind == VALUE_FINITE else None)
    for by_run in series.values():
        for run_id, history in by_run.items():
            by_run[run_id] = _thin(history)
    return series


def _thin(points: dict[str, list[Any]]) -> dict[str, list[Any]]:
    size = len(points["value"])
    if size <= MAX_POINTS:
        return points
    stride = size / MAX_POINTS
    picks = sorted({int(i * stride) for i in range(MAX_POINTS)} | {size - 1})
    return {name: [values[i] for i in picks] for name, values in points.items()}
