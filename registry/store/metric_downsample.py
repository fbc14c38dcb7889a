"""Metric histories of many runs, downsampled in the database for small charts.

The chart grid draws one line per run for up to 500 runs: 500 runs x 1,000 steps x a few keys
is millions of points, more than a browser draws quickly and more than Python should read. So
each run's points of a key, in step order, are cut into about ``points / 4`` tiles of consecutive
points, and the database returns from each its first, last, lowest and highest point, each at the
step where it was logged (M4 downsampling): a spike or a dip is never smoothed away or moved, the
run's latest point is always its line's end, and Python reads at most ``points`` rows a run
however many were logged (also all at one step). Histories short enough come back point for
point. A NaN or infinity shows as a gap (``None``) in the tile holding it.
"""

from __future__ import annotations

from typing import Any

import peewee as pw

from registry.store import db
from registry.store.models import VALUE_FINITE, LatestMetric, Metric

TARGET_POINTS = 300
"""About how many points each run's line gets per metric (up to four per tile)."""

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
    tiles = max(1, points // 4)
    # Each run's points, in step order, fall into ``tiles`` runs of consecutive points
    # (NTILE: by position, not by step, so a metric logged many times at a few steps or at
    # negative steps is cut as evenly as one logged once per step). From each tile the
    # database returns its first, last, lowest and highest point where each occurred (M4):
    # at most four rows a tile, so Python reads about ``points`` rows a run whatever is stored.
    # The unique (run, key, step, timestamp, value, value_kind) index: read in its order alone.
    order = [Metric.step, Metric.timestamp, Metric.value, Metric.value_kind]
    inner = Metric.select(
        Metric.run.alias("run_id"),
        Metric.step.alias("step"),
        Metric.timestamp.alias("ts"),
        Metric.value.alias("value"),
        Metric.value_kind.alias("kind"),
        pw.fn.NTILE(tiles).over(partition_by=[Metric.run], order_by=order).alias("tile"),
    ).where(Metric.run.in_(run_ids), Metric.key == key)
    tiled = inner.alias("tiled")
    col = tiled.c
    in_steps = [col.step, col.ts, col.value, col.kind]
    by_kind = [col.run_id, col.tile, col.kind]
    by_value = [col.value, col.step, col.ts]
    ranked = (
        pw.Select(
            from_list=[tiled],
            columns=[
                col.run_id,
                col.step,
                col.ts,
                col.value,
                col.kind,
                col.tile,
                # The neighbours in step order: a tile's first and last point border another.
                pw.fn.LAG(col.tile)
                .over(partition_by=[col.run_id], order_by=in_steps)
                .alias("before"),
                pw.fn.LEAD(col.tile)
                .over(partition_by=[col.run_id], order_by=in_steps)
                .alias("after"),
                # Per kind: a tile holding a NaN keeps one as a gap, never as its extreme.
                pw.fn.ROW_NUMBER().over(partition_by=by_kind, order_by=by_value).alias("low_rank"),
                pw.fn.COUNT(col.step).over(partition_by=by_kind).alias("size"),
            ],
        )
    ).alias("ranked")
    rc = ranked.c
    query = (
        pw.Select(from_list=[ranked], columns=[rc.run_id, rc.step, rc.ts, rc.value, rc.kind])
        .where(
            rc.before.is_null()
            | rc.after.is_null()
            | (rc.before != rc.tile)
            | (rc.after != rc.tile)
            | (rc.low_rank == 1)
            | (rc.low_rank == rc.size)  # the last by value: the highest
        )
        .order_by(rc.run_id, rc.step, rc.ts)
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
    return by_run


def _empty(with_time: bool) -> dict[str, list[Any]]:
    return {"step": [], "time": [], "value": []} if with_time else {"step": [], "value": []}


def _rounded(value: float) -> float:
    # 6 significant digits: what a chart can show, and about half the JSON of a full double.
    return float(f"{value:.6g}")


def metric_keys(run_ids: list[str]) -> list[str]:
    """The metric keys any of these runs logged, sorted."""
    if not run_ids:
        return []
    query = LatestMetric.select(LatestMetric.key).where(LatestMetric.run.in_(run_ids)).distinct()
    return sorted(row[0] for row in db.execute(query))
