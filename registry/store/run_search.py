"""``runs/search``: one page of runs, loaded without N+1 queries.

A page sorted by a metric that the filter does not test is read in three segments, in MLflow's
order: runs with a number for the metric (joined from ``latest_metrics`` and read along its
``(key, value)`` index, so the database stops after a page), then runs whose value is NaN, then
runs without the metric. A single query with a ``LEFT JOIN`` would have to rank every run of the
experiment before returning the first page.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import peewee as pw

from registry.errors import InvalidParameter
from registry.search.ast import Comparison, Node, OrderKey
from registry.search.paging import decode_page_token, encode_page_token
from registry.search.parser import parse_filter, parse_order_by
from registry.store.experiments import parse_experiment_id
from registry.store.filters import search_runs_query
from registry.store.filters.conditions import compile_filter
from registry.store.filters.ordering import order_query, split_sort_metric
from registry.store.filters.targets import RUNS
from registry.store.filters.text import equals
from registry.store.models import VALUE_NAN, LatestMetric, Run
from registry.store.permissions import visible_experiments
from registry.store.runs import RunRecord, load_records

MAX_RESULTS = 50000
PROBE_WINDOW = 2000
VIEW_TYPES = ("ACTIVE_ONLY", "DELETED_ONLY", "ALL")
Narrow = Callable[["pw.ModelSelect[Any]"], "pw.ModelSelect[Any]"]


def search_runs(
    experiment_ids: list[str],
    filter_string: str | None = None,
    view_type: str = "ACTIVE_ONLY",
    max_results: int = 1000,
    order_by: list[str] | None = None,
    page_token: str | None = None,
) -> tuple[list[RunRecord], str | None]:
    """One page of matching runs and the next page's token (None on the last page).

    Raises:
        InvalidParameter: a bad filter, order_by, view type, experiment id, max_results or token.
    """
    if not 1 <= max_results <= MAX_RESULTS:
        raise InvalidParameter(
            f"Invalid value {max_results} for parameter 'max_results' supplied. It must be at"
            f" most {MAX_RESULTS}, and at least 1."
        )
    if view_type not in VIEW_TYPES:
        raise InvalidParameter(
            f"Invalid view type {view_type!r}: use one of {', '.join(VIEW_TYPES)}"
        )
    ids = [parse_experiment_id(value) for value in experiment_ids]
    offset = decode_page_token(page_token)
    rows = page_of_runs(
        ids,
        filter_string,
        order_by,
        view_type,
        offset=offset,
        limit=max_results + 1,
        narrow=lambda query: query.where(visible_experiments(Run.experiment)),
    )
    token = encode_page_token(offset + max_results) if len(rows) > max_results else None
    return load_records(rows[:max_results]), token


def page_of_runs(
    experiment_ids: list[int],
    filter_string: str | None,
    order_by: list[str] | None,
    view_type: str,
    *,
    offset: int,
    limit: int,
    narrow: Narrow | None = None,
) -> list[Run]:
    """Up to ``limit`` matching runs from ``offset``, in the order ``order_by`` asks for.

    ``narrow`` adds conditions (e.g. the user's visible experiments) to every query.

    Raises:
        InvalidParameter: a bad filter, order-by item or view type.
    """
    keep: Narrow = narrow or (lambda query: query)
    keys = parse_order_by(order_by, "runs")
    node = parse_filter(filter_string, "runs")
    pushed, _ = split_sort_metric(node, keys)
    tiebreak = [Run.start_time.desc(nulls="LAST"), Run.run_uuid.asc()]
    if not keys or keys[0].kind != "metric" or pushed:
        if node is not None and all(
            k == OrderKey("attribute", "start_time", k.ascending) for k in keys
        ):
            first = keep(search_runs_query(experiment_ids, None, None, view_type))
            found = _from_window(
                order_query(first, RUNS, keys, tiebreak), node, keys, offset, limit
            )
            if found is not None:
                return found
        # Unsorted by a metric, or the filter already needs the sort metric: one query pages.
        query = search_runs_query(experiment_ids, filter_string, order_by, view_type)
        return list(keep(query).offset(offset).limit(limit))
    key, rest = keys[0], keys[1:]

    def base(probe: bool) -> pw.ModelSelect[Any]:
        query = keep(search_runs_query(experiment_ids, None, None, view_type))
        return query if node is None else query.where(compile_filter(node, RUNS, probe=probe))

    # Any number, infinities included (stored as +/- the largest double), and never NaN.
    numbers = [Comparison("metric", key.key, ">=", -sys.float_info.max)]
    valued = order_query(base(True), RUNS, keys, tiebreak, numbers)
    nan = order_query(base(True).where(_has_metric(key.key, nan=True)), RUNS, rest, tiebreak)
    missing = order_query(base(True).where(~_has_metric(key.key)), RUNS, rest, tiebreak)
    rows: list[Run] = []
    for segment in (valued, nan, missing):
        found = list(segment.offset(offset).limit(limit - len(rows)))
        rows += found
        if len(rows) >= limit:
            break
        # Where the next segment starts: this one ended inside the page, or before it.
        offset = 0 if found else max(0, offset - segment.order_by().count())
    return rows


def _from_window(
    ordered: pw.ModelSelect[Any], node: Node, keys: list[OrderKey], offset: int, limit: int
) -> list[Run] | None:
    """The page, if the newest (or oldest) ``PROBE_WINDOW`` runs hold all of it; else None.

    A filter that many runs match fills a page from the newest few hundred runs, read along the
    ``(experiment, stage, start_time)`` index: testing each with primary-key probes costs a few
    ms, where collecting every match first (``IN`` lists) reads each key's rows (250 ms at
    100,000 runs). A rarer match falls back to the ``IN`` form.
    """
    if offset + limit > PROBE_WINDOW:
        return None
    window = ordered.select(Run.run_uuid).limit(PROBE_WINDOW).alias("probe_window")
    query = Run.select().join(window, on=(Run.run_uuid == window.c.run_uuid))
    query = query.where(compile_filter(node, RUNS, probe=True))
    tiebreak = [Run.start_time.desc(nulls="LAST"), Run.run_uuid.asc()]
    rows = list(order_query(query, RUNS, keys, tiebreak).offset(offset).limit(limit))
    return rows if len(rows) == limit else None


def _has_metric(key: str, *, nan: bool = False) -> pw.ColumnBase:
    """The run has a latest value for ``key`` (a NaN one with ``nan``)."""
    condition = (LatestMetric.run == Run.run_uuid) & equals(LatestMetric.key, key)
    if nan:
        condition &= LatestMetric.value_kind == VALUE_NAN
    return pw.fn.EXISTS(LatestMetric.select(pw.SQL("1")).where(condition))
