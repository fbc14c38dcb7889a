"""Compile parsed order-by keys to ``ORDER BY`` terms; rows missing a key sort last."""

from __future__ import annotations

from typing import Any

import peewee as pw

from registry.search.ast import OrderKey
from registry.store.filters.targets import Target, side_table
from registry.store.filters.text import equals, sortable
from registry.store.models import VALUE_NAN, Metric


def order_query(
    query: pw.ModelSelect[Any], target: Target, keys: list[OrderKey], tiebreakers: list[Any]
) -> pw.ModelSelect[Any]:
    """``query`` ordered by ``keys`` then ``tiebreakers``, joining side tables as needed.

    Params, tags and run metrics are LEFT JOINed once per key; NaN metrics sort after every
    number and before rows without the metric, in either direction.
    """
    terms: list[Any] = []
    for number, key in enumerate(keys):
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
        owner = getattr(alias, table.owner.name)
        on = (owner == target.id_field) & equals(alias.key, key.key)
        query = query.join(alias, pw.JOIN.LEFT_OUTER, on=on).switch(target.model)
        if key.kind == "metric":
            terms.append(_metric_rank(alias.value_kind, alias.value))
            terms.append(_direction(alias.value, key.ascending))
        else:
            terms.append(_direction(sortable(alias.value), key.ascending))
    return query.order_by(*terms, *tiebreakers)


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
