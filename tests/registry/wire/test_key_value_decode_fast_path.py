"""Params and tags of a request: the plain-Python fast path loads exactly what the nested
schema loads, and refuses exactly what it refuses.

``KeyValueList`` skips ``KeyValueSchema`` for well-formed ``[{key: str, value: str}]``. The
oracle is the nested schema itself (``fields.List(fields.Nested(KeyValueSchema))``, the field
before the fast path), run over generated lists of every shape: missing or null values,
numbers, nested objects, extra fields, non-dict entries and non-list values.
"""

from __future__ import annotations

from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st
from marshmallow import Schema, ValidationError, fields

from registry.wire.base import KeyValueSchema
from registry.wire.tracking import KeyValueList


class _Oracle(Schema):
    pairs = fields.List(fields.Nested(KeyValueSchema), load_default=list)


class _FastPath(Schema):
    pairs = KeyValueList(fields.Nested(KeyValueSchema), load_default=list)


_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=5)
)
_entries = st.one_of(
    st.fixed_dictionaries(
        {"key": st.text(max_size=5)},
        optional={"value": st.one_of(st.text(max_size=5), _scalars), "extra": _scalars},
    ),
    st.dictionaries(st.sampled_from(["key", "value", "other"]), _scalars, max_size=3),
    _scalars,
    st.lists(_scalars, max_size=2),
)


def _load(schema: Schema, raw: Any) -> tuple[str, Any]:
    try:
        return "ok", schema.load({"pairs": raw})
    except ValidationError as err:
        return "refused", err.messages


@given(st.one_of(st.lists(_entries, max_size=4), _scalars))
@example([{"key": "a", "value": "1"}, {"key": "b"}])
@example([{"key": "a", "value": None}])
@example([{"key": None, "value": "x"}])
@example([{"value": "x"}])
@example([{"key": "a", "value": 3}])
@example(["a"])
@example({"key": "a"})
def test_the_fast_path_loads_and_refuses_as_the_nested_schema_does(raw: Any) -> None:
    assert _load(_FastPath(), raw) == _load(_Oracle(), raw)
