"""Metric history (append-only) and the latest value per key, written in the same transaction."""

from __future__ import annotations

import math
from collections.abc import Sequence
from operator import itemgetter
from typing import Any

from registry.errors import InvalidParameter
from registry.search.paging import decode_page_token, encode_page_token
from registry.store import write_transaction
from registry.store.bulk import insert_columns, insert_rows
from registry.store.metric_batches import insert_packed, packs, shadow_packed_copies
from registry.store.models import (
    VALUE_FINITE,
    VALUE_NAN,
    VALUE_NEG_INF,
    VALUE_POS_INF,
    Metric,
    MetricHistory,
)
from registry.store.runs import require_active_run
from registry.store.upserts import record_latest_metrics
from registry.store.validation import validate_key, validate_length
from registry.wire.tracking import MetricColumns
from registry.wire.tracking import MetricPoint as MetricPoint

MAX_HISTORY_RESULTS = 25000
_MAX_DOUBLE = 1.7976931348623157e308


def stored_value(value: float) -> tuple[float, int]:
    """(finite value, value_kind): MySQL cannot hold NaN or infinity."""
    if math.isnan(value):
        return 0.0, VALUE_NAN
    if math.isinf(value):
        return (_MAX_DOUBLE, VALUE_POS_INF) if value > 0 else (-_MAX_DOUBLE, VALUE_NEG_INF)
    return value, VALUE_FINITE


def logged_value(stored: float, kind: int) -> float:
    """The value as it was logged, from its stored form."""
    if kind == VALUE_NAN:
        return math.nan
    if kind == VALUE_POS_INF:
        return math.inf
    if kind == VALUE_NEG_INF:
        return -math.inf
    return stored


def log_metric(run_id: str, point: MetricPoint) -> None:
    """Append one point to an active run's history and update its latest value.

    Raises:
        InvalidParameter: a bad key or the run is deleted.
        NotFound: no run has this id.
    """
    validate_point(point)
    with write_transaction():
        experiment_id = require_active_run(run_id)
        insert_points(run_id, experiment_id, [point])


def validate_point(point: MetricPoint) -> None:
    """Check a point's key and the lengths of its optional links.

    Raises:
        InvalidParameter: a bad key or an over-long model id or dataset field.
    """
    validate_shape(point.key, point.model_id, point.dataset_name, point.dataset_digest)


def validate_shape(
    key: str, model_id: str | None, dataset_name: str | None, dataset_digest: str | None
) -> None:
    """``validate_point`` for the fields it checks (a batch checks each distinct shape once).

    Raises:
        InvalidParameter: a bad key or an over-long model id or dataset field.
    """
    validate_key(key, "metric")
    validate_length(model_id, 64, "model_id")
    validate_length(dataset_name, 500, "dataset_name")
    validate_length(dataset_digest, 64, "dataset_digest")


def validate_points(points: Sequence[MetricPoint]) -> None:
    """``validate_point`` for each point, in order: the first bad one raises.

    Raises:
        InvalidParameter: a bad key or an over-long model id or dataset field.
    """
    if type(points) is MetricColumns:
        # No links: only keys to check, each distinct one once.
        for key in dict.fromkeys(points.keys):
            validate_key(key, "metric")
        return
    # A batch repeats a few keys many times: check each distinct (key, links) once, in order.
    for shape in dict.fromkeys(map(_SHAPE, points)):
        validate_shape(*shape)


_SHAPE = itemgetter(0, 4, 5, 6)
"""A point's (key, model_id, dataset_name, dataset_digest): what ``validate_shape`` checks."""


def insert_points(
    run_id: str, experiment_id: int, points: Sequence[MetricPoint], *, pack: bool = True
) -> None:
    """Insert points (an identical point is read back once) and the latest values; no checks.

    ``experiment_id`` is the run's experiment, stored with each latest value. With ``pack``,
    PostgreSQL may store a large batch packed (``store.metric_batches``), where a batch sent
    twice is stored twice; without it every point is a row, and an identical point is stored
    once (for writers that send the same points again by design, such as an import).
    """
    if type(points) is MetricColumns and math.isfinite(sum(points.values)):
        _insert_finite_columns(run_id, experiment_id, points, pack)
        return
    rows: list[tuple[Any, ...]] = []
    linked: list[tuple[Any, ...]] = []
    # The latest point of a key: highest (step, timestamp, value), the later one on a tie.
    newest: dict[str, tuple[tuple[int, int, float], int]] = {}
    append, newest_of = rows.append, newest.get
    for key, value, timestamp, step, model_id, dataset_name, dataset_digest in points:
        kind = VALUE_FINITE
        # x - x is 0.0 exactly when x is finite (NaN and infinities give NaN).
        if value - value != 0.0:
            value, kind = stored_value(value)
        if model_id or dataset_name or dataset_digest:
            linked.append(
                (run_id, key, value, kind, timestamp, step, model_id, dataset_name, dataset_digest)
            )
        else:
            append((run_id, key, value, kind, timestamp, step))
        order = (step, timestamp, value)
        current = newest_of(key)
        if current is None or order >= current[0]:
            newest[key] = (order, kind)
    # The optional links are left out of the statement when no point has one (they are NULL).
    if pack and packs(len(rows)):
        _, keys, values, kinds, timestamps, steps = zip(*rows, strict=True)
        insert_packed(run_id, keys, values, kinds, timestamps, steps)
    else:
        insert_rows(Metric, _COLUMNS, rows)
    insert_rows(Metric, _LINKED_COLUMNS, linked)
    shadow_packed_copies(run_id, [(row[1], row[5]) for row in linked])
    for linked_row in linked:
        if linked_row[6]:
            _link_model(dict(zip(_LINKED_COLUMNS, linked_row, strict=True)))
    latest = {
        key: {"value": value, "value_kind": kind, "timestamp": timestamp, "step": step}
        for key, ((step, timestamp, value), kind) in newest.items()
    }
    record_latest_metrics(run_id, experiment_id, latest)


def _insert_finite_columns(
    run_id: str, experiment_id: int, points: MetricColumns, pack: bool
) -> None:
    # insert_points for points without links whose values are all finite (their sum is:
    # NaN and the infinities make it NaN or infinite, and so may an overflow, which only
    # sends the batch the long way). Each step runs a column at a time but the latest one.
    keys, values, timestamps, steps = points.keys, points.values, points.timestamps, points.steps
    if pack and packs(len(keys)):
        insert_packed(run_id, keys, values, [VALUE_FINITE] * len(keys), timestamps, steps)
    else:
        shared = {"run": run_id, "value_kind": VALUE_FINITE}
        columns = {"key": keys, "value": values, "timestamp": timestamps, "step": steps}
        insert_columns(Metric, shared, columns)
    newest: dict[str, tuple[int, int, float]] = {}
    newest_of = newest.get
    # The latest point of a key: highest (step, timestamp, value), the later one on a tie
    # (() sorts before every order).
    for key, order in zip(keys, zip(steps, timestamps, values, strict=True), strict=True):
        if order >= newest_of(key, ()):
            newest[key] = order
    latest = {
        key: {"value": value, "value_kind": VALUE_FINITE, "timestamp": timestamp, "step": step}
        for key, (step, timestamp, value) in newest.items()
    }
    record_latest_metrics(run_id, experiment_id, latest)


_COLUMNS = ("run", "key", "value", "value_kind", "timestamp", "step")
_LINKED_COLUMNS = (*_COLUMNS, "model_id", "dataset_name", "dataset_digest")


def _link_model(row: dict[str, Any]) -> None:
    # log_model re-logs the run's points with a model_id; the identical point is already stored
    # (the unique index has no model_id), so attach the model to it. A point PostgreSQL packed
    # (store.metric_batches) is not a row to update: the linked copy just inserted is, and its
    # batch is now shadowed, so metric_history shows the row.
    Metric.update(
        model_id=row["model_id"],
        dataset_name=row["dataset_name"],
        dataset_digest=row["dataset_digest"],
    ).where(
        Metric.run == row["run"],
        Metric.key == row["key"],
        Metric.step == row["step"],
        Metric.timestamp == row["timestamp"],
        Metric.value == row["value"],
        Metric.value_kind == row["value_kind"],
        Metric.model_id.is_null(),
    ).execute()


def get_metric_history(
    run_id: str, key: str, max_results: int | None = None, page_token: str | None = None
) -> tuple[list[MetricHistory], str | None]:
    """A run's points for ``key`` in (step, timestamp, value) order, one page at a time.

    Raises:
        InvalidParameter: a bad page token or max_results.
        NotFound: no run has this id.
    """
    from registry.store.runs import get_run_row

    get_run_row(run_id)
    limit = _limit(max_results, MAX_HISTORY_RESULTS)
    offset = decode_page_token(page_token)
    query = (
        MetricHistory.select()
        .where(MetricHistory.run == run_id, MetricHistory.key == key)
        .order_by(
            MetricHistory.step,
            MetricHistory.timestamp,
            MetricHistory.value,
            MetricHistory.value_kind,
        )
        .offset(offset)
        .limit(limit + 1)
    )
    rows = list(query)
    token = encode_page_token(offset + limit) if len(rows) > limit else None
    return rows[:limit], token


def _limit(max_results: int | None, ceiling: int) -> int:
    if max_results is None:
        return ceiling
    if max_results < 1 or max_results > ceiling:
        raise InvalidParameter(
            f"Invalid value {max_results} for parameter 'max_results': it must be between 1 and"
            f" {ceiling}."
        )
    return max_results
