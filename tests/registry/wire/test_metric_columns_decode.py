"""log-batch's whole-batch decode: a batch of plain points, checked a column at a time, gives
exactly the points (or the error) the field path gives, and reads like a list of them.

The oracle is the field path of ``test_metric_decode_fast_path`` (``Double``/``Int64`` through
``Field.deserialize``). The batches here are what clients send, all of one shape, with an
entry now and then that the column checks must refuse: a bool, an int beyond int64, a float
for an int field, a null step, a missing or extra field, a non-string key.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from marshmallow import ValidationError

from registry.store.metrics import MetricPoint
from registry.wire.tracking import LogBatchSchema, MetricList
from tests.registry.wire.test_metric_decode_fast_path import _exact, _field_path, _outcome

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_ints = st.one_of(
    st.integers(min_value=0, max_value=2**41),
    st.sampled_from([_INT64_MIN, _INT64_MAX, 0, -1]),
)
_odd_ints = st.sampled_from([_INT64_MAX + 1, _INT64_MIN - 1, True, False, 1.0, None, "1"])
_values = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([0.0, -0.0, 5e-324, 1.7976931348623157e308, 1e308]),
    st.integers(min_value=_INT64_MIN, max_value=_INT64_MAX),
)
_odd_values = st.sampled_from(
    [True, None, "1.5", "NaN", _INT64_MAX + 1, 10**400, math.nan, math.inf, [1]]
)
_keys = st.sampled_from(["loss", "acc", "a b", "ünï", ""])
_odd_keys = st.sampled_from([None, 1, True])


def _point(with_step: bool) -> st.SearchStrategy[dict[str, Any]]:
    shape = {"key": _keys, "value": _values, "timestamp": _ints}
    if with_step:
        shape["step"] = _ints
    return st.fixed_dictionaries(shape)


def _odd_point() -> st.SearchStrategy[Any]:
    """One entry of a plain batch spoiled in one way."""
    plain = {"key": "loss", "value": 1.0, "timestamp": 1, "step": 2}
    return st.one_of(
        st.builds(lambda v: {**plain, "value": v}, _odd_values),
        st.builds(lambda v: {**plain, "timestamp": v}, _odd_ints),
        st.builds(lambda v: {**plain, "step": v}, _odd_ints),
        st.builds(lambda v: {**plain, "key": v}, _odd_keys),
        st.sampled_from(
            [
                {"key": "loss", "value": 1.0, "timestamp": 1},
                {"key": "loss", "value": 1.0, "timestamp": 1, "step": 2, "model_id": "m"},
                {"key": "loss", "value": 1.0, "timestamp": 1, "model_id": None},
                {"key": "loss", "value": 1.0, "step": 2, "model_id": None},
                {"key": "loss", "value": 1.0, "step": 2},
                {"key": "loss", "timestamp": 1, "step": 2, "other": 3},
                None,
                [1, 2, 3, 4],
                "abcd",
            ]
        ),
    )


@st.composite
def _batches(draw: st.DrawFn) -> list[Any]:
    with_step = draw(st.booleans())
    items = draw(st.lists(_point(with_step), min_size=1, max_size=12))
    if draw(st.booleans()):
        items.insert(draw(st.integers(0, len(items))), draw(_odd_point()))
    return items


def _field_points(items: list[Any]) -> list[list[Any]]:
    return [list(MetricPoint(**_field_path(i, item))) for i, item in enumerate(items)]


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(items=_batches())
@example(items=[{"key": "a", "value": -0.0, "timestamp": _INT64_MIN, "step": _INT64_MAX}])
@example(
    items=[{"key": "a", "value": 3, "timestamp": 1}, {"key": "b", "value": 2.5, "timestamp": 2}]
)
@example(items=[{"key": "a", "value": _INT64_MAX, "timestamp": 1, "step": 0}])
@example(items=[{"key": "a", "value": 1.0, "timestamp": 1, "step": True}])
@example(items=[{"key": "a", "value": 1.0, "timestamp": 1, "step": None}])
@example(
    items=[{"key": "a", "value": 1, "timestamp": 1}, {"key": "b", "value": True, "timestamp": 1}]
)
def test_a_plain_batch_decodes_as_the_field_path_does(items: list[Any]) -> None:
    """Every point, with its types (an int value becomes a float, -0.0 stays), or the first
    bad entry's error."""
    decoded = _outcome(lambda: [list(point) for point in MetricList().deserialize(items)])
    assert decoded == _outcome(_field_points, items)


def test_the_decoded_batch_reads_as_a_list_of_points() -> None:
    items = [{"key": f"k{i % 3}", "value": i * 0.5, "timestamp": 7, "step": i} for i in range(10)]
    points = LogBatchSchema().load({"run_id": "r", "metrics": items})["metrics"]
    expected = [MetricPoint(f"k{i % 3}", i * 0.5, 7, i) for i in range(10)]
    assert len(points) == 10
    assert all(type(point) is MetricPoint for point in points)
    assert points[0] == expected[0]
    assert points[-1] == expected[-1]
    assert list(points[2:5]) == expected[2:5]
    assert list(points[::-3]) == expected[::-3]
    assert list(points) == expected
    assert points == expected
    assert points != expected[:-1]
    assert points[1:3] == points[1:3]
    assert [point.key for point in points] == [f"k{i % 3}" for i in range(10)]
    assert points.index(expected[4]) == 4
    assert expected[9] in points
    with pytest.raises(IndexError):
        points[10]


def test_ints_become_floats_and_the_int64_bounds_are_kept() -> None:
    items = [
        {"key": "a", "value": 3, "timestamp": _INT64_MIN, "step": _INT64_MAX},
        {"key": "a", "value": -0.0, "timestamp": _INT64_MAX, "step": _INT64_MIN},
    ]
    points = MetricList().deserialize(items)
    assert _exact([list(point) for point in points]) == _exact(
        [
            ["a", 3.0, _INT64_MIN, _INT64_MAX, None, None, None],
            ["a", -0.0, _INT64_MAX, _INT64_MIN, None, None, None],
        ]
    )


def test_an_int_beyond_int64_in_a_plain_batch_is_refused_at_its_index() -> None:
    items = [{"key": "a", "value": 1.0, "timestamp": 1, "step": 0}] * 3
    items = [*items, {"key": "a", "value": 1.0, "timestamp": 2**63, "step": 0}]
    with pytest.raises(ValidationError) as raised:
        MetricList().deserialize(items)
    message = "9223372036854775808 is outside the 64-bit integer range."
    assert raised.value.messages == {3: [message]}
