"""Compile a parsed filter to a parameterised peewee expression over one entity.

Side-table keys become subquery conditions (``id IN (...)`` or, when probing, ``EXISTS``), so a
filter never multiplies rows. Each operator maps to one small function in
``_STRING_OPS`` or ``_NUMBER_OPS``: the table of what is supported, as in datasette's
``Filters``.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Callable, Sequence
from typing import Any

import peewee as pw

from registry.search.ast import BoolOp, Comparison, Node
from registry.store.filters.targets import KeyValues, Target, side_table
from registry.store.filters.text import Pattern, all_of, any_of, equals, in_values, like
from registry.store.models import VALUE_NAN, Dataset, LatestMetric, Metric, RunInput

Condition = Callable[[Any, Any], pw.ColumnBase]

CONTEXT_TAG = "mlflow.data.context"

_STRING_OPS: dict[str, Condition] = {
    "=": lambda field, value: equals(field, value),
    "!=": lambda field, value: ~equals(field, value),
    "LIKE": lambda field, value: like(field, [Pattern(value, True)], case_sensitive=True),
    "ILIKE": lambda field, value: like(field, [Pattern(value, True)], case_sensitive=False),
    "IN": lambda field, values: in_values(field, values),
    "NOT IN": lambda field, values: ~in_values(field, values),
}

_NUMBER_OPS: dict[str, Condition] = {
    "=": lambda field, value: field == value,
    "!=": lambda field, value: field != value,
    "<": lambda field, value: field < value,
    "<=": lambda field, value: field <= value,
    ">": lambda field, value: field > value,
    ">=": lambda field, value: field >= value,
    "IN": lambda field, values: field.in_(list(values)),
    "NOT IN": lambda field, values: field.not_in(list(values)),
}


def compile_filter(
    node: Node,
    target: Target,
    *,
    probe: bool = False,
    experiments: Sequence[int] | None = None,
) -> pw.ColumnBase:
    """The ``WHERE`` expression for ``node`` over ``target``'s rows.

    Params, tags and run metrics become ``id IN (subquery)``, which the database answers from
    the ``(key, ...)`` indexes however few rows match. With ``probe`` they become correlated
    ``EXISTS`` lookups on the ``(owner, key)`` primary key instead: the right choice when the
    query already walks an index in sort order and stops after a page (see ``ordering``).
    ``experiments``, the experiments of the runs searched, confines a run metric's subquery to
    their rows (the ``(experiment_id, key, value)`` index), not every experiment's.
    """
    if isinstance(node, BoolOp):
        parts = [
            compile_filter(operand, target, probe=probe, experiments=experiments)
            for operand in node.operands
        ]
        return all_of(parts) if node.op == "AND" else any_of(parts)  # type: ignore[no-any-return]
    if node.kind == "attribute":
        return _attribute(node, target)
    if node.kind == "dataset":
        return _dataset(node, target)
    if node.kind == "metric":
        return _metric(node, target, probe, experiments)
    return _key_value(node, target, probe)


def _ops(value: object) -> dict[str, Condition]:
    sample = value[0] if isinstance(value, tuple) else value
    return _STRING_OPS if isinstance(sample, str) else _NUMBER_OPS


def _attribute(node: Comparison, target: Target) -> pw.ColumnBase:
    field = target.attributes[node.key]
    if node.op == "IS NULL":
        return field.is_null()  # type: ignore[no-any-return]
    if node.op == "IS NOT NULL":
        return field.is_null(False)  # type: ignore[no-any-return]
    return _ops(node.value)[node.op](field, node.value)


def _key_value(node: Comparison, target: Target, probe: bool) -> pw.ColumnBase:
    table = side_table(target, node.kind)
    has_key = equals(table.model.key, node.key)
    if node.op in ("IS NULL", "IS NOT NULL"):
        return _owners(target, table, has_key, probe, negate=node.op == "IS NULL")
    if node.kind == "tag" and target.missing_tag_is_not_equal and node.op in ("!=", "NOT IN"):
        positive = "=" if node.op == "!=" else "IN"
        condition = has_key & _STRING_OPS[positive](table.model.value, node.value)
        return _owners(target, table, condition, probe, negate=True)
    condition = has_key & _STRING_OPS[node.op](table.model.value, node.value)
    return _owners(target, table, condition, probe)


def metric_condition(value: Any, kind: Any, node: Comparison) -> pw.ColumnBase:
    """``node`` (a metric comparison other than a null test) applied to one metric row."""
    return (kind != VALUE_NAN) & _NUMBER_OPS[node.op](value, _stored(node.value))  # type: ignore[no-any-return]


def _metric(
    node: Comparison, target: Target, probe: bool, experiments: Sequence[int] | None
) -> pw.ColumnBase:
    if target.metrics is None:
        return _logged_model_metric(node, target)
    table = target.metrics
    has_key = equals(table.model.key, node.key)
    if experiments is not None and not probe and table.model is LatestMetric:
        # The runs outside them are not searched: whether they match changes no answer.
        has_key = table.model.experiment_id.in_(list(experiments)) & has_key
    if node.op in ("IS NULL", "IS NOT NULL"):
        return _owners(target, table, has_key, probe, negate=node.op == "IS NULL")
    condition = has_key & metric_condition(table.model.value, table.model.value_kind, node)
    return _owners(target, table, condition, probe)


def _owners(
    target: Target, table: KeyValues, condition: Any, probe: bool, *, negate: bool = False
) -> pw.ColumnBase:
    """Rows of ``target`` that own a ``table`` row meeting ``condition`` (or own none)."""
    if probe:
        rows = table.model.select(pw.SQL("1")).where((table.owner == target.id_field) & condition)
        exists = pw.fn.EXISTS(rows)
        return ~exists if negate else exists
    return _in(target.id_field, table.model.select(table.owner).where(condition), negate=negate)


def _logged_model_metric(node: Comparison, target: Target) -> pw.ColumnBase:
    newer = Metric.alias()
    is_latest = ~pw.fn.EXISTS(
        newer.select(pw.SQL("1")).where(
            (newer.model_id == Metric.model_id)
            & (newer.key == Metric.key)
            & (
                (newer.step > Metric.step)
                | ((newer.step == Metric.step) & (newer.timestamp > Metric.timestamp))
            )
        )
    )
    rows = Metric.select(Metric.model_id).where(
        Metric.model_id.is_null(False), equals(Metric.key, node.key)
    )
    if node.op in ("IS NULL", "IS NOT NULL"):
        return _in(target.id_field, rows, negate=node.op == "IS NULL")
    rows = rows.where(is_latest, metric_condition(Metric.value, Metric.value_kind, node))
    return _in(target.id_field, rows)


def _stored(value: Any) -> Any:
    """A metric bound as stored: infinities are kept as +/- the largest double (see models)."""
    if isinstance(value, tuple):
        return tuple(_stored(item) for item in value)
    if isinstance(value, float) and math.isinf(value):
        return math.copysign(sys.float_info.max, value)
    return value


def _dataset(node: Comparison, target: Target) -> pw.ColumnBase:
    inputs = RunInput.select(RunInput.run)
    if node.key != "context":
        inputs = inputs.join(Dataset)
        column = Dataset.name if node.key == "name" else Dataset.digest
        if node.op in ("IS NULL", "IS NOT NULL"):
            return _in(target.id_field, inputs, negate=node.op == "IS NULL")
        return _in(target.id_field, inputs.where(_STRING_OPS[node.op](column, node.value)))
    has_context = any_of(
        [
            like(RunInput.tags_json, parts, case_sensitive=True)
            for parts in _context_patterns(None, True)
        ]
    )
    if node.op in ("IS NULL", "IS NOT NULL"):
        return _in(target.id_field, inputs.where(has_context), negate=node.op == "IS NULL")
    negate = node.op in ("!=", "NOT IN")
    positive = {"!=": "=", "NOT IN": "IN"}.get(node.op, node.op)
    values = node.value if isinstance(node.value, tuple) else (node.value,)
    wildcards = positive in ("LIKE", "ILIKE")
    matches = [
        like(RunInput.tags_json, parts, case_sensitive=positive != "ILIKE")
        for value in values
        for parts in _context_patterns(str(value), wildcards)
    ]
    condition = any_of(matches)
    if negate:
        condition = has_context & ~condition
    return _in(target.id_field, inputs.where(condition))


def _context_patterns(value: str | None, wildcards: bool) -> list[Sequence[Pattern]]:
    """Patterns for ``{"key": "mlflow.data.context", "value": <value>}`` inside ``tags_json``.

    Both ``json.dumps`` spacings are accepted; ``None`` matches any value.
    """
    patterns: list[Sequence[Pattern]] = []
    for colon, comma in ((": ", ", "), (":", ",")):
        head = f'"key"{colon}{json.dumps(CONTEXT_TAG)}{comma}"value"{colon}'
        if value is None:
            parts = [Pattern("%", True), Pattern(head, False), Pattern("%", True)]
        else:
            quoted = json.dumps(value)[1:-1]
            value_part = Pattern(quoted, wildcards)
            parts = [Pattern("%", True), Pattern(head + '"', False), value_part]
            parts += [Pattern('"', False), Pattern("%", True)]
        patterns.append(parts)
    return patterns


def _in(field: Any, rows: pw.ModelSelect[Any], *, negate: bool = False) -> pw.ColumnBase:
    return field.not_in(rows) if negate else field.in_(rows)  # type: ignore[no-any-return]
