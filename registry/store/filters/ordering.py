"""Compile parsed order-by keys to ``ORDER BY`` terms; rows missing a key sort last."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import peewee as pw

from registry.search.ast import NULL_OPERATORS, BoolOp, Comparison, Node, OrderKey
from registry.store.filters.conditions import metric_condition
from registry.store.filters.targets import Target, side_table
from registry.store.filters.text import equals, sortable
from registry.store.models import VALUE_NAN, Metric


def split_sort_metric(
    node: Node | None, keys: list[OrderKey]
) -> tuple[list[Comparison], Node | None]:
    """Split off the top-level ``AND`` terms that compare the metric the results sort by first.

    Such a term guarantees that every matching row has the metric and that it is not NaN, so
    ``order_query`` can INNER JOIN it and test the terms on the joined row: the database then
    walks the ``(key, value)`` index in sort order and stops after one page.
    """
    if node is None or not keys or keys[0].kind != "metric":
        return [], node
    operands = node.operands if isinstance(node, BoolOp) and node.op == "AND" else (node,)
    pushed = [
        operand
        for operand in operands
        if isinstance(operand, Comparison)
        and operand.kind == "metric"
        and operand.key == keys[0].key
        and operand.op not in NULL_OPERATORS
    ]
    if not pushed:
        return [], node
    rest = [operand for operand in operands if not any(operand is p for p in pushed)]
    if not rest:
        return pushed, None
    return pushed, rest[0] if len(rest) == 1 else BoolOp("AND", tuple(rest))


def order_query(
    query: pw.ModelSelect[Any],
    target: Target,
    keys: list[OrderKey],
    tiebreakers: list[Any],
    pushed: Sequence[Comparison] = (),
) -> pw.ModelSelect[Any]:
    """``query`` ordered by ``keys`` then ``tiebreakers``, joining side tables as needed.

    Params, tags and run metrics are LEFT JOINed once per key; NaN metrics sort after every
    number and before rows without the metric, in either direction. ``pushed`` holds the
    comparisons ``split_sort_metric`` took off the filter for the first key.
    """
    terms: list[Any] = []
    if pushed and target.metrics is not None:
        query, terms = _join_filtered_metric(query, target, keys[0], pushed)
        keys = keys[1:]
    for number, key in enumerate(keys, start=len(terms)):
        if key.kind == "attribute":
            field = target.attributes[key.key]
            if isinstance(field, pw.CharField | pw.TextField):
                field = sortable(field)
            terms.append(_direction(field, key.ascending))
            continue
        if key.kind == "metric" and target.metrics is None:
            terms += _logged_model_metric(target, key)
            continue
        table = side_table(target, key.kind)
        alias = table.model.alias(f"order_{number}")
        on = (_aliased(alias, table.owner) == target.id_field) & equals(alias.key, key.key)
        query = query.join(alias, pw.JOIN.LEFT_OUTER, on=on).switch(target.model)
        if key.kind == "metric":
            terms.append(_metric_rank(alias.value_kind, alias.value))
            terms.append(_direction(alias.value, key.ascending))
        else:
            terms.append(_direction(sortable(alias.value), key.ascending))
    return query.order_by(*terms, *tiebreakers)


def _join_filtered_metric(
    query: pw.ModelSelect[Any], target: Target, key: OrderKey, pushed: Sequence[Comparison]
) -> tuple[pw.ModelSelect[Any], list[Any]]:
    table = side_table(target, "metric")
    alias = table.model.alias("order_metric")
    on = (_aliased(alias, table.owner) == target.id_field) & equals(alias.key, key.key)
    query = query.join(alias, pw.JOIN.INNER, on=on).switch(target.model)
    query = query.where(*(metric_condition(alias.value, alias.value_kind, c) for c in pushed))
    return query, [alias.value.asc() if key.ascending else alias.value.desc()]


def _aliased(alias: Any, field: Any) -> Any:
    # Not getattr(alias, field.name): a ModelAlias's own ``model`` attribute hides a field named
    # ``model`` (LoggedModelParam.model), which then joined on the whole table.
    return pw.FieldAlias.create(alias, field)  # type: ignore[no-untyped-call]


def _direction(node: Any, ascending: bool) -> Any:
    return node.asc(nulls="LAST") if ascending else node.desc(nulls="LAST")


def _metric_rank(kind: Any, value: Any) -> Any:
    return pw.Case(None, ((value.is_null(), 2), (kind == VALUE_NAN, 1)), 0).asc()


def _logged_model_metric(target: Target, key: OrderKey) -> list[Any]:
    latest = Metric.alias()
    conditions = [latest.model_id == target.id_field, equals(latest.key, key.key)]
    if key.dataset_name is not None:
        conditions.append(latest.dataset_name == key.dataset_name)
    if key.dataset_digest is not None:
        conditions.append(latest.dataset_digest == key.dataset_digest)
    order = (latest.step.desc(), latest.timestamp.desc(), latest.id.desc())

    def column(field: str) -> Any:
        query = latest.select(getattr(latest, field)).where(*conditions).order_by(*order)
        return pw.NodeList((query.limit(1),))

    return [
        _metric_rank(column("value_kind"), column("value")),
        _direction(column("value"), key.ascending),
    ]
