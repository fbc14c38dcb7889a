"""A run search as ordered segments, each read along an index and stopped after a page.

MLflow orders runs by the first order-by key, NaN metrics after every number, runs without the
key last, then by ``start_time DESC`` (NULLs last) and ``run_id``. One query with a ``LEFT JOIN``
has to rank every run before it can return the first page. Split into segments, each has a
plain index order:

* by a metric: runs with a number (``latest_metrics`` joined and read along its
  ``(experiment_id, key, value)`` index, the searched experiments' rows of the key only),
  then runs whose value is NaN, then runs without it;
* by a param or tag: runs with it (along ``(key, value)`` where the engine has that index),
  then runs without it;
* newest (or oldest) first: runs with a start time (along ``(experiment, stage, start_time)``),
  then runs without one.

Every segment's order ends with ``run_uuid``, so a row's order values identify it: a page token
holds the last row's segment and values (``Cursor``) and the next page starts after them (keyset
paging), however deep it is. Every value is bound as a parameter.
"""

from __future__ import annotations

import math
import sys
from collections import namedtuple
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import peewee as pw

from registry.search.ast import Comparison, Node, OrderKey
from registry.store import db, engine_name
from registry.store.filters.conditions import compile_filter, metric_condition
from registry.store.filters.ordering import split_sort_metric
from registry.store.filters.targets import RUNS, side_table
from registry.store.filters.text import all_of, any_of, equals, sortable
from registry.store.migrations.m0011_param_tag_value_prefix_index import PREFIX
from registry.store.models import VALUE_NAN, LatestMetric, Run

Narrow = Callable[["pw.ModelSelect[Any]"], "pw.ModelSelect[Any]"]
SORT_VALUE = "sort_value"
"""The attribute a segment's joined sort value is selected as, on each returned ``Run``."""
SORT_PREFIX = "sort_prefix"
"""The attribute of a text sort value's indexed prefix (PostgreSQL, see migration 11)."""
SEGMENT = "search_segment"
"""The attribute holding the number of the segment a returned ``Run`` came from."""
WINDOW_CAP = 4000
"""The most runs a filtered newest-first page probes before it collects the matches instead."""
WINDOW_FACTORS = (8, 64)
"""The probe windows of a filtered newest-first page, in pages' worth of runs, tried in turn."""


@dataclass(frozen=True)
class Column:
    """One ``ORDER BY`` column of a segment; NULLs (where ``nullable``) sort last."""

    expr: Any
    ascending: bool
    kind: type
    """What a page token may hold for it: ``float``, ``int`` or ``str``."""
    attr: str
    """The attribute of a returned ``Run`` that holds the value."""
    nullable: bool = False
    text: bool = False
    """Compared and sorted by code point (``sortable``)."""

    def sorted_expr(self) -> Any:
        """The expression as ordered and compared."""
        return sortable(self.expr) if self.text else self.expr

    def term(self) -> Any:
        """The ``ORDER BY`` term."""
        expr = self.sorted_expr()
        nulls = "LAST" if self.nullable else None
        return expr.asc(nulls=nulls) if self.ascending else expr.desc(nulls=nulls)


@dataclass(frozen=True)
class Segment:
    """Runs of one kind in one index order; ``window`` tests the filter on the next runs only."""

    query: pw.ModelSelect[Any]
    columns: tuple[Column, ...]
    window: pw.ColumnBase | None = None
    """With ``collect``: the filter as probes, tried on a window of the next runs first."""
    collect: pw.ColumnBase | None = None
    """The filter as ``IN`` subqueries, bounded by the matching rows."""


@dataclass(frozen=True)
class Cursor:
    """Where a page ended: the segment and the order values of its last row."""

    segment: int
    values: tuple[Any, ...]


def plan(
    experiment_ids: list[int],
    node: Node | None,
    keys: list[OrderKey],
    stages: Sequence[str],
    narrow: Narrow,
) -> list[Segment] | None:
    """The segments for this search in order, or None where the order has no such plan.

    Handled: no order (newest first), ``start_time`` alone, or one metric, param or tag key.
    """

    def scoped(query: pw.ModelSelect[Any]) -> pw.ModelSelect[Any]:
        query = query.where(Run.experiment.in_(experiment_ids))
        return narrow(query.where(Run.lifecycle_stage.in_(list(stages))))

    def base() -> pw.ModelSelect[Any]:
        return scoped(Run.select())

    start = Column(Run.start_time, False, int, "start_time", nullable=True)
    run_id = Column(Run.run_uuid, True, str, "run_uuid")
    if all(key == OrderKey("attribute", "start_time", key.ascending) for key in keys):
        if len(keys) > 1:
            return None
        ascending = keys[0].ascending if keys else False
        timed = Column(Run.start_time, ascending, int, "start_time")
        window = None if node is None else compile_filter(node, RUNS, probe=True)
        collect = None if node is None else compile_filter(node, RUNS, experiments=experiment_ids)
        if engine_name() == "postgresql" and node is not None:
            # PostgreSQL plans EXISTS as a semi-join, probing along the index or collecting
            # the matches by its own estimate: one query, no window.
            window, collect = None, window
        return [
            Segment(base().where(Run.start_time.is_null(False)), (timed, run_id), window, collect),
            Segment(base().where(Run.start_time.is_null()), (run_id,), window, collect),
        ]
    if len(keys) != 1 or keys[0].kind not in ("metric", "param", "tag"):
        return None
    key = keys[0]
    pushed, rest = split_sort_metric(node, keys)
    # Compiled once: every segment tests the same conditions.
    condition = None if rest is None else compile_filter(rest, RUNS, probe=True)

    def filtered(source: pw.ModelSelect[Any] | None = None) -> pw.ModelSelect[Any]:
        query = base() if source is None else scoped(source)
        return query if condition is None else query.where(condition)

    table = side_table(RUNS, key.kind)
    alias = table.model.alias("order_value")
    on = (pw.FieldAlias.create(alias, table.owner) == Run.run_uuid) & equals(alias.key, key.key)  # type: ignore[no-untyped-call]
    if key.kind == "metric":
        # Redundant with the runs' own test, but it confines the walk of the index to the
        # searched experiments' rows, not every experiment's that logs the key.
        on &= alias.experiment_id.in_(experiment_ids)
    text = key.kind != "metric"
    if text and engine_name() == "sqlite":
        # SQLite's planner reads the experiment's runs first and sorts every one that has the
        # key; a CROSS JOIN (SQLite's join-order hint) walks the (key, value, run_id) index.
        source = alias.select(*Run._meta.sorted_fields, alias.value.alias(SORT_VALUE))
        joined = filtered(source.join(Run, pw.JOIN.CROSS).where(on))
    else:
        joined = filtered().select_extend(alias.value.alias(SORT_VALUE))
        joined = joined.join(alias, pw.JOIN.INNER, on=on).switch(Run)
    value = Column(alias.value, key.ascending, str if text else float, SORT_VALUE, text=text)
    ordered: tuple[Column, ...] = (value, start, run_id)
    if text and engine_name() == "postgresql":
        prefix = Column(pw.fn.LEFT(alias.value, PREFIX), key.ascending, str, SORT_PREFIX, text=True)
        joined = joined.select_extend(prefix.expr.alias(SORT_PREFIX))
        ordered = (prefix, *ordered)
    valued: list[Segment] = []
    if key.kind == "metric":
        # Any number, infinities included (stored as +/- the largest double), and never NaN.
        tests = pushed or [Comparison("metric", key.key, ">=", -sys.float_info.max)]
        joined = joined.where(*(metric_condition(alias.value, alias.value_kind, c) for c in tests))
        valued.append(Segment(joined, ordered))
        if pushed:
            return valued
        valued.append(Segment(filtered().where(_has_metric(key.key, nan=True)), (start, run_id)))
    else:
        valued.append(Segment(joined, ordered))
    missing = ~pw.fn.EXISTS(
        table.model.select(pw.SQL("1")).where(
            (table.owner == Run.run_uuid) & equals(table.model.key, key.key)
        )
    )
    return [*valued, Segment(filtered().where(missing), (start, run_id))]


def fetch_after(
    segments: list[Segment], cursor: Cursor | None, limit: int, *, plain: bool = False
) -> list[Any]:
    """Up to ``limit`` runs after ``cursor`` (from the first segment's start without one).

    ``Run`` models, or with ``plain`` the rows as ``plain_rows`` reads them.
    """
    rows: list[Any] = []
    first = 0 if cursor is None else cursor.segment
    for number in range(first, len(segments)):
        segment = segments[number]
        query = segment.query
        if cursor is not None and number == cursor.segment:
            query = query.where(_after(segment.columns, cursor.values))
        rows += _fetch(number, segment, query, 0, limit - len(rows), plain)
        if len(rows) >= limit:
            break
    return rows


def fetch_offset(
    segments: list[Segment], offset: int, limit: int, *, plain: bool = False
) -> list[Any]:
    """Up to ``limit`` runs from ``offset`` (the UI's numbered pages, MLflow's offset tokens).

    ``Run`` models, or with ``plain`` the rows as ``plain_rows`` reads them.
    """
    rows: list[Any] = []
    for number, segment in enumerate(segments):
        found = _fetch(number, segment, segment.query, offset, limit - len(rows), plain)
        rows += found
        if len(rows) >= limit:
            break
        # Where the next segment starts: this one ended inside the page, or before it.
        if found:
            offset = 0
        elif offset:
            counted = segment.query if segment.collect is None else _collected(segment)
            offset = max(0, offset - counted.order_by().count())
    return rows


def cursor_of(segments: list[Segment], row: Any) -> Cursor:
    """The cursor just after ``row``, one of the rows a fetch returned."""
    number: int = getattr(row, SEGMENT)
    return Cursor(number, tuple(getattr(row, c.attr) for c in segments[number].columns))


def check_cursor(segments: list[Segment], cursor: Cursor) -> bool:
    """Whether ``cursor`` fits these segments: a known segment and values of the right types."""
    if not 0 <= cursor.segment < len(segments):
        return False
    columns = segments[cursor.segment].columns
    if len(columns) != len(cursor.values):
        return False
    for column, value in zip(columns, cursor.values, strict=True):
        if value is None:
            if not column.nullable:
                return False
        elif column.kind is float:
            if isinstance(value, bool) or not isinstance(value, int | float):
                return False
            if isinstance(value, int) and not -(2**63) <= value < 2**63:
                return False  # the drivers bind an int as a 64-bit integer
            if not math.isfinite(value) or not -_DOUBLE_MAX <= value <= _DOUBLE_MAX:
                return False  # stored values are finite doubles (NaN has its own segment)
        elif column.kind is int:
            if isinstance(value, bool) or not isinstance(value, int):
                return False
            if not -(2**63) <= value < 2**63:
                return False
        elif not isinstance(value, str):
            return False
    return True


_DOUBLE_MAX = sys.float_info.max


def plain_rows(query: pw.SelectQuery) -> list[Any]:
    """The rows of ``query`` as named tuples of its columns, as the driver returns them.

    A ``Run`` model per row is most of the Python time of a page of 1000 runs (peewee sets
    every field through its descriptor); the REST answer only reads the columns. Values are
    the driver's own (str, int, float, None), which is all a run's columns hold.
    """
    sql, params = query.sql()
    cursor = db.execute_sql(sql, params)
    names = tuple(column[0] for column in cursor.description)
    row_type: Any = _ROW_TYPES.get(names)
    if row_type is None:
        # A subclass with a __dict__, so that ``_fetch`` can mark each row's segment.
        row_type = type("PlainRun", (namedtuple("PlainRunColumns", names, rename=True),), {})
        if len(_ROW_TYPES) < 64:
            _ROW_TYPES[names] = row_type
    return list(map(row_type._make, cursor.fetchall()))


_ROW_TYPES: dict[tuple[str, ...], Any] = {}


def _fetch(
    number: int,
    segment: Segment,
    query: pw.ModelSelect[Any],
    offset: int,
    limit: int,
    plain: bool = False,
) -> list[Any]:
    """Up to ``limit`` rows of ``query`` from ``offset`` in ``segment``'s order.

    Each row is marked with the segment's ``number`` for ``cursor_of``.
    """
    if limit <= 0:
        return []
    terms = [column.term() for column in segment.columns]
    rows: list[Any] | None = None
    sizes = [n * (offset + limit) for n in WINDOW_FACTORS if n * (offset + limit) <= WINDOW_CAP]
    for size in sizes if segment.window is not None else []:
        # A filter that many runs match fills the page from the next few runs, read along the
        # index and each tested by primary-key probes (a window 8 times the page, then 64 times
        # for a filter that one run in 8 or fewer matches); a rarer match falls back to
        # collecting.
        window = query.select(Run.run_uuid).order_by(*terms).limit(size)
        window = window.alias("probe_window")
        probed = Run.select().join(window, on=(Run.run_uuid == window.c.run_uuid))
        probed = probed.where(segment.window).order_by(*terms).offset(offset).limit(limit)
        found = plain_rows(probed) if plain else list(probed)
        if len(found) == limit:
            rows = found
            break
    if rows is None:
        if segment.collect is not None:
            query = query.where(segment.collect)
        query = query.order_by(*terms).offset(offset).limit(limit)
        # ``objects(Run)``: Runs, with the joined sort value on them, not on a related instance.
        rows = plain_rows(query) if plain else list(query.objects(Run))
    for row in rows:
        setattr(row, SEGMENT, number)
    return rows


def _collected(segment: Segment) -> pw.ModelSelect[Any]:
    assert segment.collect is not None
    return segment.query.where(segment.collect)


def _after(columns: Sequence[Column], values: Sequence[Any]) -> pw.ColumnBase:
    """Rows after ``values`` in the order of ``columns`` (NULLs last in a nullable column).

    ``(c1 beyond v1) OR (c1 = v1 AND c2 beyond v2) OR ...``, plus ``c1`` at or beyond ``v1`` on
    its own so that the database starts its index range there.
    """
    terms: list[Any] = []
    equal: list[Any] = []
    for column, value in zip(columns, values, strict=True):
        expr = column.sorted_expr()
        if value is not None:
            beyond = expr > value if column.ascending else expr < value
            if column.nullable:
                beyond = beyond | expr.is_null()
            terms.append(all_of([*equal, beyond]))
        equal.append(expr.is_null() if value is None else expr == value)
    after = any_of(terms) if terms else pw.SQL("1 = 0")
    first, value = columns[0], values[0]
    if value is None or first.nullable:
        return after
    expr = first.sorted_expr()
    start = expr >= value if first.ascending else expr <= value
    return start & after  # type: ignore[no-any-return]


def _has_metric(key: str, *, nan: bool = False) -> pw.ColumnBase:
    """The run has a latest value for ``key`` (a NaN one with ``nan``)."""
    condition = (LatestMetric.run == Run.run_uuid) & equals(LatestMetric.key, key)
    if nan:
        # A NaN is stored as 0.0 (``metrics.stored_value``, as MLflow's SQL store does): the
        # value test makes the NaNs an index range instead of a scan of the key's rows.
        condition &= (LatestMetric.value_kind == VALUE_NAN) & (LatestMetric.value == 0.0)
    return pw.fn.EXISTS(LatestMetric.select(pw.SQL("1")).where(condition))
