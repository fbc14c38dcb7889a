"""Metric histories of many runs, downsampled for small charts.

The chart grid draws one line per run for up to 500 runs: 500 runs x 1,000 steps x a few keys
is millions of points, more than a browser draws quickly. So each run's points of a key, in step
order, are cut into about ``points / 4`` tiles of consecutive points, and from each tile only its
first, last, lowest and highest point are kept, each at the step where it was logged (M4
downsampling): a spike or a dip is never smoothed away or moved, the run's latest point is always
its line's end, and a metric logged many times at one step (or at negative steps) is cut as
evenly as one logged once per step. Histories short enough come back point for point. A NaN or
infinity shows as a gap (``None``) in the tile holding it, never as the tile's extreme.

The database does one ordered range scan of the unique (run, key, step, timestamp, value,
value_kind) index for the asked runs and key; the tiles and their extremes are found with numpy.
Measured on SQLite with 500 runs x 1,000 points, that takes about a seventh of the CPU of window
functions in SQL (``NTILE``/``LAG``/``ROW_NUMBER``, which sort every point more than once); see
benchmarks/results/ui_chart_grid_500x1000.txt.
"""

from __future__ import annotations

from collections import Counter
from operator import itemgetter
from typing import Any

import numpy as np
import numpy.typing as npt

from registry.store import db
from registry.store.models import VALUE_FINITE, LatestMetric, MetricHistory

TARGET_POINTS = 300
"""About how many points each run's line gets per metric (up to four per tile)."""

MAX_POINTS = 1000
"""The most points per line a caller may ask for."""

Mask = npt.NDArray[np.bool_]
Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]

_UNTIMED = np.dtype([("step", np.int64), ("value", np.float64), ("kind", np.int8)])
_TIMED = np.dtype([*_UNTIMED.descr, ("time", np.int64)])
_POWERS = np.array([float(f"1e{n}") for n in range(-30, 31)])  # each the double nearest 10**n


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
    return downsample_with_sizes(run_ids, key, points, with_time)[0]


def downsample_with_sizes(
    run_ids: list[str], key: str, points: int = TARGET_POINTS, with_time: bool = True
) -> tuple[dict[str, dict[str, list[Any]]], dict[str, int]]:
    """``downsampled_history`` and, per run, how many stored points its line was drawn from."""
    if not run_ids:
        return {}, {}
    columns = [
        MetricHistory.step,
        MetricHistory.value,
        MetricHistory.value_kind,
        MetricHistory.timestamp,
        MetricHistory.run,
    ]
    # The index's own order: the database reads it front to back, sorting nothing.
    query = (
        MetricHistory.select(*(columns if with_time else columns[:3] + columns[4:]))
        .where(MetricHistory.run.in_(sorted(set(run_ids))), MetricHistory.key == key)
        .order_by(
            MetricHistory.run,
            MetricHistory.step,
            MetricHistory.timestamp,
            MetricHistory.value,
            MetricHistory.value_kind,
        )
    )
    rows = list(db.execute(query))
    if not rows:
        return {}, {}
    numbers = np.fromiter(
        map(itemgetter(slice(0, -1)), rows),
        dtype=_TIMED if with_time else _UNTIMED,
        count=len(rows),
    )
    sizes = Counter(map(itemgetter(-1), rows))  # rows come grouped by run, in order of appearance
    del rows
    counts = np.fromiter(sizes.values(), dtype=np.int64, count=len(sizes))
    kept = np.flatnonzero(m4_mask(counts, numbers["value"], numbers["kind"], points))
    picked = numbers[kept]
    steps = picked["step"].tolist()
    finite = picked["kind"] == VALUE_FINITE
    drawn = [
        value if ok else None
        for value, ok in zip(rounded(picked["value"]).tolist(), finite.tolist(), strict=True)
    ]
    times = picked["time"].tolist() if with_time else []
    # Where each run's kept rows end in ``kept``.
    ends = np.searchsorted(kept, np.cumsum(counts)).tolist()
    by_run: dict[str, dict[str, list[Any]]] = {}
    start = 0
    for run_id, end in zip(sizes, ends, strict=True):
        history: dict[str, list[Any]] = {"step": steps[start:end]}
        if with_time:
            history["time"] = times[start:end]
        history["value"] = drawn[start:end]
        by_run[run_id] = history
        start = end
    return by_run, dict(sizes)


def m4_mask(sizes: Ints, values: Floats, kinds: Any, points: int) -> Mask:
    """Which points M4 keeps, for runs of ``sizes`` points laid end to end in step order.

    Each run is cut into ``points // 4`` tiles by position, as SQL's ``NTILE`` cuts (the first
    ``size % tiles`` tiles one point longer). A tile keeps its first and last point and, per value
    kind, its lowest and highest (the earliest of equal lows, the latest of equal highs): finite
    values compete among themselves, so a NaN or infinity is kept as a gap, never as an extreme.
    """
    tiles = max(1, points // 4)
    total = len(values)
    run_of = np.repeat(np.arange(len(sizes), dtype=np.int64), sizes)
    size = np.repeat(sizes.astype(np.int64), sizes)
    position = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    short, extra = np.divmod(size, tiles)  # tiles of ``short + 1`` points, then of ``short``
    long_part = extra * (short + 1)
    tile = np.where(
        position < long_part,
        position // (short + 1),
        extra + (position - long_part) // np.maximum(short, 1),
    )
    group = run_of * tiles + tile
    starts = np.empty(total, dtype=np.bool_)
    starts[0] = True
    np.not_equal(group[1:], group[:-1], out=starts[1:])
    keep = starts.copy()  # each tile's first point
    keep[:-1] |= starts[1:]  # and its last
    keep[-1] = True
    tile_of = np.cumsum(starts) - 1
    first_rows = np.flatnonzero(starts)
    finite = kinds == VALUE_FINITE
    for sign in (1.0, -1.0):  # the lowest, then the highest (the lowest of the negated values)
        candidates = np.where(finite, sign * values, np.inf)
        best = np.minimum.reduceat(candidates, first_rows)[tile_of]
        hits = np.flatnonzero(finite & (candidates == best))
        if sign > 0:  # the first of equal lows
            chosen = np.ones(len(hits), dtype=np.bool_)
            np.not_equal(tile_of[hits][1:], tile_of[hits][:-1], out=chosen[1:])
        else:  # the last of equal highs
            chosen = np.ones(len(hits), dtype=np.bool_)
            np.not_equal(tile_of[hits][:-1], tile_of[hits][1:], out=chosen[:-1])
        keep[hits[chosen]] = True
    odd = np.flatnonzero(~finite)
    if len(odd):
        # NaN and infinities (rare): per tile and kind, the first and last by (value, position).
        order = odd[np.lexsort((odd, values[odd], kinds[odd], tile_of[odd]))]
        bucket = tile_of[order] * 4 + kinds[order]
        edge = np.ones(len(order), dtype=np.bool_)
        np.not_equal(bucket[1:], bucket[:-1], out=edge[1:])
        keep[order[edge]] = True
        edge[:] = True
        np.not_equal(bucket[:-1], bucket[1:], out=edge[:-1])
        keep[order[edge]] = True
    return keep


def rounded(values: Floats) -> Floats:
    """``values`` to 6 significant digits, each as ``float(f"{v:.6g}")`` reads back.

    What a chart can show, and about half the JSON of a full double. Vectorised: ``k / 10**n``
    (or ``k * 10**n``) with both exact is the double nearest the 6-digit decimal, as parsing it
    gives; magnitudes whose power of ten is not exact in a double are formatted one by one.
    """
    out = values.copy()
    magnitude = np.abs(values)
    usable = (magnitude >= 1e-16) & (magnitude < 1e27)
    exponent = np.zeros(len(values), dtype=np.int64)
    exponent[usable] = np.floor(np.log10(magnitude[usable])).astype(np.int64)
    # log10 can be a hair off at powers of ten: correct it against exact powers.
    exponent -= usable & (magnitude < _POWERS[np.clip(exponent, -30, 30) + 30])
    exponent += usable & (magnitude >= _POWERS[np.clip(exponent + 1, -30, 30) + 30])
    shift = 5 - exponent  # digits after the point
    small = usable & (shift >= 0)
    scale = _POWERS[np.clip(shift, -30, 30) + 30]
    out[small] = np.round(values[small] * scale[small]) / scale[small]
    large = usable & (shift < 0)
    scale = _POWERS[np.clip(-shift, -30, 30) + 30]
    out[large] = np.round(values[large] / scale[large]) * scale[large]
    for index in np.flatnonzero(~usable & (magnitude != 0)).tolist():
        out[index] = float(f"{values[index]:.6g}")
    return out


def metric_keys(run_ids: list[str]) -> list[str]:
    """The metric keys any of these runs logged, sorted."""
    return metric_keys_and_runs(run_ids)[0]


def metric_keys_and_runs(run_ids: list[str]) -> tuple[list[str], set[str]]:
    """The metric keys any of these runs logged (sorted), and which of the runs logged any."""
    if not run_ids:
        return [], set()
    query = LatestMetric.select(LatestMetric.run, LatestMetric.key).where(
        LatestMetric.run.in_(run_ids)
    )
    rows = list(db.execute(query))
    return sorted({key for _, key in rows}), {run for run, _ in rows}
