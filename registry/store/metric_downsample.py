"""Metric histories of many runs, downsampled in the database for small charts.

The chart grid draws one line per run for up to 500 runs: 500 runs x 1,000 steps x a few keys
is millions of points, more than a browser draws quickly and more than Python should read. So
each key's steps are cut into buckets of equal width (``step - step % width``, which every engine
computes alike) and the database returns, per run and bucket, the lowest and highest value with
the bucket's step and time range: at most two points per bucket, and a spike or a dip is never
smoothed away (min/max downsampling). Histories short enough are returned point for point.
NaN and infinite values are left out of a downsampled series (a gap would need the full data).
"""

from __future__ import annotations

import math
from typing import Any

import peewee as pw

from registry.store import db
from registry.store.models import VALUE_FINITE, LatestMetric, Metric

TARGET_POINTS = 300
"""About how many points each run's line gets per metric (two per bucket)."""

MAX_POINTS = 1000
"""The most points per line a caller may ask for."""


def downsampled_histories(
    run_ids: list[str], keys: list[str], points: int = TARGET_POINTS, with_time: bool = True
) -> dict[str, dict[str, dict[str, list[Any]]]]:
    """``{key: {run_id: {"step": [...], "time": [...], "value": [...]}}}``, in step order.

    Only the named ``keys`` are read. A run missing a key is absent from that key's dict (a chart
    draws nothing for it, never a zero); a key no run logged is absent. Each series has at most
    about ``points`` points; without ``with_time`` the series carry no ``"time"`` list.
    """
    series: dict[str, dict[str, dict[str, list[Any]]]] = {}
    for key in keys:
        by_run = downsampled_history(run_ids, key, points, with_time)
        if by_run:
            series[key] = by_run
    return series


def downsampled_history(
    run_ids: list[str], key: str, points: int = TARGET_POINTS, with_time: bool = True
) -> dict[str, dict[str, list[Any]]]:
    """One key's ``{run_id: {"step", "value"[, "time"]}}`` (see ``downsampled_histories``)."""
    if not run_ids:
        return {}
    highest = _highest_step(run_ids, key)
    if highest is None:
        return {}
    # The lowest step is not read (it would cost a pass over every point): buckets start at 0,
    # so a history starting later gets a little fewer points, never more.
    width = math.ceil((max(highest, 0) + 1) / max(1, points // 2))
    if width <= 1:
        return _points(run_ids, key, points, with_time)
    return _buckets(run_ids, key, width, with_time)


def _highest_step(run_ids: list[str], key: str) -> int | None:
    # latest_metrics holds each (run, key)'s highest step: a primary-key lookup per run.
    query = LatestMetric.select(pw.fn.MAX(LatestMetric.step)).where(
        LatestMetric.run.in_(run_ids), LatestMetric.key == key
    )
    row = db.execute(query).fetchone()
    return row[0] if row else None


def _points(
    run_ids: list[str], key: str, points: int, with_time: bool
) -> dict[str, dict[str, list[Any]]]:
    # Few distinct steps: the points as logged (several per step are thinned evenly below).
    query = (
        Metric.select(Metric.run, Metric.step, Metric.timestamp, Metric.value, Metric.value_kind)
        .where(Metric.run.in_(run_ids), Metric.key == key)
        .order_by(Metric.run, Metric.step, Metric.timestamp)
    )
    by_run: dict[str, dict[str, list[Any]]] = {}
    for run_id, step, timestamp, value, kind in db.execute(query):
        history = by_run.get(run_id)
        if history is None:
            history = by_run[run_id] = _empty(with_time)
        history["step"].append(step)
        if with_time:
            history["time"].append(timestamp)
        history["value"].append(_rounded(value) if kind == VALUE_FINITE else None)
    return {run_id: _thin(history, points) for run_id, history in by_run.items()}


def _buckets(
    run_ids: list[str], key: str, width: int, with_time: bool
) -> dict[str, dict[str, list[Any]]]:
    # round((step - (width - 1) / 2) / width) is floor(step / width) for integer steps, in the
    # same words on every engine (no integer division or MOD in common). The rows are read
    # through the (run, key, step, ...) index alone (a covering index scan of the pairs asked).
    offset = pw.Value((width - 1) / 2, converter=False)  # not rounded to the step column's int
    bucket = pw.fn.ROUND((Metric.step - offset) / pw.Value(float(width), converter=False))
    columns = [
        Metric.run,
        bucket,
        pw.fn.MIN(Metric.step),
        pw.fn.MAX(Metric.step),
        pw.fn.MIN(Metric.value),
        pw.fn.MAX(Metric.value),
    ]
    if with_time:
        columns += [pw.fn.MIN(Metric.timestamp), pw.fn.MAX(Metric.timestamp)]
    query = (
        Metric.select(*columns)
        .where(Metric.run.in_(run_ids), Metric.key == key, Metric.value_kind == VALUE_FINITE)
        # By position: PostgreSQL would not match the bucket's bound parameters by expression.
        .group_by(pw.SQL("1"), pw.SQL("2"))
        .order_by(pw.SQL("1"), pw.SQL("2"))
    )
    by_run: dict[str, dict[str, list[Any]]] = {}
    for run_id, _, first, last, low, high, *times in db.execute(query):
        history = by_run.get(run_id)
        if history is None:
            history = by_run[run_id] = _empty(with_time)
        values = history["value"]
        low, high = _rounded(low), _rounded(high)
        if low == high:
            history["step"].append(first)
            if with_time:
                history["time"].append(times[0])
            values.append(low)
            continue
        # Where a bucket's extremes fell is not read; draw the one nearer the previous point
        # first, so that the line does not zigzag across the bucket.
        if values and abs(values[-1] - high) < abs(values[-1] - low):
            low, high = high, low
        history["step"] += [first, last]
        if with_time:
            history["time"] += times
        values += [low, high]
    return by_run


def _empty(with_time: bool) -> dict[str, list[Any]]:
    return {"step": [], "time": [], "value": []} if with_time else {"step": [], "value": []}


def _rounded(value: float) -> float:
    # 6 significant digits: what a chart can show, and about half the JSON of a full double.
    return float(f"{value:.6g}")


def _thin(history: dict[str, list[Any]], points: int) -> dict[str, list[Any]]:
    size = len(history["value"])
    if size <= points:
        return history
    stride = size / points
    picks = sorted({int(i * stride) for i in range(points)} | {size - 1})
    return {name: [values[i] for i in picks] for name, values in history.items()}


def metric_keys(run_ids: list[str]) -> list[str]:
    """The metric keys any of these runs logged, sorted."""
    if not run_ids:
        return []
    query = LatestMetric.select(LatestMetric.key).where(LatestMetric.run.in_(run_ids)).distinct()
    return sorted(row[0] for row in db.execute(query))
