"""One metric's history across several runs, as MLflow's web UI reads it for its charts."""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence
from typing import Any

import peewee
from peewee import SQL, fn

from registry.errors import InvalidParameter
from registry.store import db
from registry.store.api_reads import metric_json
from registry.store.models import MetricHistory, Run
from registry.store.permissions import visible_experiments
from registry.wire.base import JSON

MAX_BULK_RUNS = 100
"""Runs one bulk request may name (MLflow's limit for both bulk endpoints)."""
MAX_BULK_RESULTS = 25000
"""Points ``get-history-bulk`` answers in all (MLflow's MAX_HISTORY_RESULTS)."""
MAX_INTERVAL_RESULTS = 2500
"""Points per run ``get-history-bulk-interval`` answers (MLflow's MAX_RESULTS_PER_RUN)."""

_COLUMNS = (
    MetricHistory.run,
    MetricHistory.step,
    MetricHistory.timestamp,
    MetricHistory.value,
    MetricHistory.value_kind,
)
# MLflow's point order for sampling: step, then time, value, NaN last.
_POINT_ORDER = (
    MetricHistory.step,
    MetricHistory.timestamp,
    MetricHistory.value,
    MetricHistory.value_kind,
)


def get_history_bulk(
    run_ids: Sequence[str], key: str | None, max_results: int | None
) -> list[MetricHistory]:
    """The points of ``key`` for the runs the caller may read, at most ``max_results`` in all.

    At most ``MAX_BULK_RESULTS`` points (also when ``max_results`` is None). Ordered by run id,
    then timestamp, step and value, as MLflow's SQL store answers; runs that do not exist (or
    are hidden from the caller) add nothing.

    Raises:
        InvalidParameter: no run id, more than ``MAX_BULK_RUNS``, or no key (MLflow's words).
    """
    name = "GetMetricHistoryBulk request"
    if not run_ids:
        raise InvalidParameter(f"{name} must specify at least one run_id.")
    if len(run_ids) > MAX_BULK_RUNS:
        raise InvalidParameter(
            f"{name} cannot specify more than {MAX_BULK_RUNS} run_ids. "
            f"Received {len(run_ids)} run_ids."
        )
    if key is None:
        raise InvalidParameter(f"{name} must specify a metric_key.")
    limit = MAX_BULK_RESULTS if max_results is None else max(0, min(max_results, MAX_BULK_RESULTS))
    query = (
        MetricHistory.select()
        .join(Run)
        .where(
            MetricHistory.run.in_(list(run_ids)),
            MetricHistory.key == key,
            visible_experiments(Run.experiment),
        )
        .order_by(
            MetricHistory.run,
            MetricHistory.timestamp,
            MetricHistory.step,
            MetricHistory.value,
            MetricHistory.value_kind,
        )
        .limit(limit)
    )
    return list(query)


def get_history_bulk_interval(
    run_ids: Sequence[str],
    key: str,
    steps: tuple[int | None, int | None],
    max_results: int | None,
    note: str = "",
) -> list[MetricHistory]:
    """Up to ``max_results`` points of ``key`` per run, spread over the run's points in ``steps``.

    ``steps`` is ``(start_step, end_step)``, inclusive, both or neither given; ``max_results``
    is 1 to ``MAX_INTERVAL_RESULTS`` (that when None). MLflow's sampling: the run's points (in
    step order) are cut into ``max_results`` even buckets (SQL's NTILE) and the first point of
    each is kept; the run's last point always replaces the final pick, so a chart reaches the
    end of the range. The database picks them (window functions), so only the picked points
    are read, however many a run logged. Runs come in the order named, each once.

    Raises:
        InvalidParameter: more than ``MAX_BULK_RUNS`` runs, a bad ``max_results`` (``note``
            appended to these two messages) or a bad step range, in MLflow's words.
    """
    if len(run_ids) > MAX_BULK_RUNS:
        raise InvalidParameter(
            f"GetMetricHistoryBulkInterval request must specify at most {MAX_BULK_RUNS} run_ids. "
            f"Received {len(run_ids)} run_ids.{note}"
        )
    if max_results is not None and not 1 <= max_results <= MAX_INTERVAL_RESULTS:
        raise InvalidParameter(f"max_results must be between 1 and {MAX_INTERVAL_RESULTS}.{note}")
    step_range = _step_range(*steps)
    if not run_ids:
        return []
    by_run: dict[str, list[MetricHistory]] = {}
    sampled = _sampled(run_ids, key, step_range, max_results or MAX_INTERVAL_RESULTS)
    for row in db.execute(sampled):
        by_run.setdefault(row[0], []).append(_metric(key, row))
    return [point for run_id in dict.fromkeys(run_ids) for point in by_run.get(run_id, [])]


def _step_range(start: int | None, end: int | None) -> tuple[int, int] | None:
    if start is None and end is None:
        return None
    if start is None or end is None:
        raise InvalidParameter(
            "If either start step or end step are specified, both must be specified."
        )
    if start > end:
        raise InvalidParameter(
            "end_step must be greater than start_step. "
            f"Found start_step={start} and end_step={end}."
        )
    return start, end


def _sampled(
    run_ids: Sequence[str], key: str, steps: tuple[int, int] | None, buckets: int
) -> peewee.Select:
    """The picked points of each run: each bucket's first, and the run's last for the final one."""
    per_run = {"partition_by": [MetricHistory.run], "order_by": list(_POINT_ORDER)}
    numbered = MetricHistory.select(
        *_COLUMNS,
        fn.NTILE(buckets).over(**per_run).alias("bucket"),
        fn.ROW_NUMBER().over(**per_run).alias("position"),
        fn.COUNT(SQL("*")).over(partition_by=[MetricHistory.run]).alias("total"),
    ).where(MetricHistory.run.in_(list(run_ids)), MetricHistory.key == key)
    if steps is not None:
        numbered = numbered.where(MetricHistory.step.between(*steps))
    inner = numbered.alias("numbered")
    point = [inner.c.run_id, inner.c.step, inner.c.timestamp, inner.c.value, inner.c.value_kind]
    in_bucket = fn.ROW_NUMBER().over(partition_by=[inner.c.run_id, inner.c.bucket], order_by=point)
    ranked = peewee.Select(
        [inner], [*point, inner.c.bucket, inner.c.position, inner.c.total, in_bucket.alias("first")]
    ).alias("ranked")
    columns = [ranked.c.run_id, ranked.c.step, ranked.c.timestamp, ranked.c.value]
    picked = ((ranked.c.first == 1) & (ranked.c.bucket < buckets)) | (
        ranked.c.position == ranked.c.total
    )
    return (
        peewee.Select([ranked], [*columns, ranked.c.value_kind])
        .where(picked)
        .order_by(*columns, ranked.c.value_kind)
    )


def points_json(rows: Sequence[MetricHistory]) -> list[JSON]:
    """Bulk-history points as MLflow's SQL-backed server answers them.

    Each carries its run id, and an infinity is the largest double of its sign (what MLflow's
    SQL store keeps for one).
    """
    points = [metric_json(row, row.run_id) for row in rows]
    for point in points:
        point["value"] = stored_value(point["value"])
    return points


def stored_value(value: Any) -> Any:
    """A metric value as MLflow's SQL store keeps it.

    An infinity (a float, or the API's ``"Infinity"``/``"-Infinity"``) becomes the largest
    double of its sign; anything else is kept.
    """
    if value in ("Infinity", "-Infinity") or (isinstance(value, float) and math.isinf(value)):
        return math.copysign(sys.float_info.max, float(value))
    return value


def _metric(key: str, row: Sequence[Any]) -> MetricHistory:
    run_id, step, timestamp, value, kind = row
    return MetricHistory(
        run=run_id, key=key, step=step, timestamp=timestamp, value=value, value_kind=kind
    )
