"""log-batch's metric decode: the plain-type fast path gives exactly what the field path gives.

``_load_metric`` skips the marshmallow fields for ``{key: str, value: float|int, timestamp: int,
step: int}``. The oracle here is the field path itself (``Double``/``Int64`` through
``Field.deserialize``, as ``_load_metric`` used them for every point before the fast path), run
over generated points of every shape: booleans, ints beyond int64, floats for int fields,
non-finite values and their proto-JSON strings, ``None``, missing fields and junk.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from marshmallow import ValidationError

from registry.store.metrics import MetricPoint
from registry.wire.fields import Double, Int64
from registry.wire.tracking import LogBatchSchema, MetricList

API = "/api/2.0/mlflow"
HINT = " See the API docs for more information about request parameters."
_DOUBLE = Double()
_INT64 = Int64()
_OPTIONAL_TEXT = ("model_id", "dataset_name", "dataset_digest")


def _field_path(index: int, item: Any) -> dict[str, Any]:
    """One point through the marshmallow fields only: the decode before the fast path."""
    if not isinstance(item, dict):
        raise ValidationError({index: ["Not a valid metric object."]})
    key = item.get("key")
    if not isinstance(key, str):
        raise ValidationError({index: {"key": ["Missing or not a string."]}})
    if "value" not in item or "timestamp" not in item:
        raise ValidationError({index: ["value and timestamp are required."]})
    try:
        metric = {
            "key": key,
            "value": _DOUBLE.deserialize(item["value"]),
            "timestamp": _INT64.deserialize(item["timestamp"]),
            "step": _INT64.deserialize(item.get("step") or 0),
        }
    except ValidationError as err:
        raise ValidationError({index: err.messages}) from None
    for name in _OPTIONAL_TEXT:
        text = item.get(name)
        if text is not None and not isinstance(text, str):
            raise ValidationError({index: {name: ["Not a valid string."]}})
        metric[name] = text
    return metric


def _exact(value: Any) -> Any:
    """A value with its type, comparable when it is NaN and telling 0.0 from -0.0."""
    if isinstance(value, float):
        return (float, math.copysign(1.0, value), repr(value))
    if isinstance(value, dict):
        return (dict, {name: _exact(item) for name, item in value.items()})
    if isinstance(value, list):
        return (list, [_exact(item) for item in value])
    return (type(value), value)


def _outcome(decode: Any, *args: Any) -> Any:
    """What a decoder returns, or the type and messages of what it raises."""
    try:
        return ("ok", _exact(decode(*args)))
    except ValidationError as err:
        return ("invalid", _exact(err.messages))
    except Exception as err:  # the field path's other errors (OverflowError) too
        return ("error", type(err), str(err))


_INT64_MAX = 2**63 - 1
_numbers = st.one_of(
    st.integers(min_value=-(2**64), max_value=2**64),
    st.integers(min_value=-_INT64_MAX - 1, max_value=_INT64_MAX),
    st.sampled_from([0, -1, 2**63, -(2**63) - 1, 10**30, 10**400]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, -0.0, 1.0, 2.5, 1e19, 1e308, float("nan"), float("inf")]),
)
_strings = st.one_of(
    st.sampled_from(
        ["NaN", "nan", "Infinity", "-Infinity", "+infinity", " inf ", "-inf", "1", " 12 ", "1.5"]
    ),
    st.sampled_from(["1e3", "0x10", "", "abc", "\uff11\uff12", "9" * 30]),
    st.text(max_size=6),
)
_anything = st.one_of(
    _numbers,
    _strings,
    st.booleans(),
    st.none(),
    st.just([1]),
    st.just({"v": 1}),
)
_fields = {
    "key": st.one_of(st.text(max_size=8), st.none(), st.integers(), st.booleans()),
    "value": _anything,
    "timestamp": _anything,
    "step": _anything,
    "model_id": st.one_of(st.none(), st.text(max_size=4), st.integers()),
    "dataset_name": st.one_of(st.none(), st.text(max_size=4)),
    "dataset_digest": st.one_of(st.none(), st.text(max_size=4), st.booleans()),
}
# Each field present or missing; mostly well-formed keys so the numeric checks are reached.
_points = st.fixed_dictionaries(
    {"key": st.one_of(st.text(max_size=8), st.just("loss"))},
    optional={name: strategy for name, strategy in _fields.items() if name != "key"},
)
_any_points = st.fixed_dictionaries({}, optional=_fields)
_items = st.one_of(_points, _points, _any_points, st.none(), st.integers(), st.lists(st.integers()))
# What clients send: the tight loop's shape, mixed into batches with everything else.
_plain_points = st.fixed_dictionaries(
    {
        "key": st.sampled_from(["loss", "acc"]),
        "value": st.floats(allow_nan=False, allow_infinity=False),
        "timestamp": st.integers(min_value=0, max_value=2**41),
    },
    optional={
        "step": st.one_of(st.integers(min_value=0, max_value=10**6), st.none()),
        "model_id": st.one_of(st.none(), st.text(max_size=3)),
        "dataset_digest": st.one_of(st.none(), st.text(max_size=3)),
    },
)


@settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(index=st.integers(min_value=0, max_value=3), item=_items)
@example(index=0, item={"key": "a", "value": True, "timestamp": 1})
@example(index=0, item={"key": "a", "value": 1.0, "timestamp": False})
@example(index=0, item={"key": "a", "value": 1.0, "timestamp": 1, "step": False})
@example(index=0, item={"key": "a", "value": 1.0, "timestamp": 1, "step": True})
@example(index=0, item={"key": "a", "value": 10**400, "timestamp": 1})
@example(index=0, item={"key": "a", "value": 1, "timestamp": 2**70, "step": -(2**70)})
@example(index=0, item={"key": "a", "value": 1, "timestamp": 5.0, "step": 2.5})
@example(index=0, item={"key": "a", "value": "NaN", "timestamp": "7", "step": None})
@example(index=0, item={"key": "a", "value": None, "timestamp": 1})
@example(index=0, item={"key": "a", "value": 1, "timestamp": None})
@example(index=0, item={"key": "a", "value": 1})
def test_fast_path_matches_the_field_path(index: int, item: Any) -> None:
    """Any point decodes to the same MetricPoint, or fails with the same error."""
    fields_result = _outcome(lambda: list(MetricPoint(**_field_path(index, item))))
    items = [{"key": "pad", "value": 0, "timestamp": 0}] * index + [item]
    fast_result = _outcome(lambda: list(MetricList().deserialize(items)[index]))
    assert fast_result == fields_result
    if fields_result[0] == "ok":
        assert type(MetricList().deserialize([item])[0]) is MetricPoint


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(items=st.lists(st.one_of(_items, _plain_points), max_size=8))
@example(
    items=[{"key": "a", "value": 1.0, "timestamp": 1}, {"key": "b", "value": "1", "timestamp": 2}]
)
@example(
    items=[
        {"key": "a", "value": 1, "timestamp": 1, "model_id": "m"},
        {"key": "b", "value": 2.0, "timestamp": 2, "step": None},
    ]
)
def test_a_batch_matches_the_field_path_point_by_point(items: list[Any]) -> None:
    """Plain and other entries mixed: every point in order, or the first bad entry's error."""

    def field_path() -> list[Any]:
        return [list(MetricPoint(**_field_path(i, item))) for i, item in enumerate(items)]

    fast = _outcome(lambda: [list(point) for point in MetricList().deserialize(items)])
    assert fast == _outcome(field_path)


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        ({"key": "a", "value": 3, "timestamp": 1}, MetricPoint("a", 3.0, 1, 0)),
        (
            {"key": "a", "value": 1.5, "timestamp": 2**63 - 1, "step": -(2**63)},
            MetricPoint("a", 1.5, 2**63 - 1, -(2**63)),
        ),
        ({"key": "a", "value": "-Infinity", "timestamp": "7"}, MetricPoint("a", -math.inf, 7, 0)),
        ({"key": "a", "value": 1, "timestamp": 9.0, "step": 2.0}, MetricPoint("a", 1.0, 9, 2)),
        ({"key": "a", "value": 1, "timestamp": 1, "step": False}, MetricPoint("a", 1.0, 1, 0)),
        ({"key": "a", "value": 1, "timestamp": 1, "step": None}, MetricPoint("a", 1.0, 1, 0)),
    ],
)
def test_accepted_shapes(item: dict[str, Any], expected: MetricPoint) -> None:
    """Ints become floats for value; int fields take ints, whole floats and numeric strings."""
    point = MetricList().deserialize([item])[0]
    assert _exact(list(point)) == _exact(list(expected))


@pytest.mark.parametrize(
    ("item", "messages"),
    [
        ({"key": "a", "value": True, "timestamp": 1}, {0: ["Expected a number."]}),
        ({"key": "a", "value": 1, "timestamp": True}, {0: ["Expected an integer."]}),
        ({"key": "a", "value": 1, "timestamp": 1, "step": True}, {0: ["Expected an integer."]}),
        ({"key": "a", "value": 1, "timestamp": 1.5}, {0: ["Expected an integer, got 1.5."]}),
        ({"key": "a", "value": None, "timestamp": 1}, {0: ["Field may not be null."]}),
        (
            {"key": "a", "value": 1, "timestamp": 2**63},
            {0: ["9223372036854775808 is outside the 64-bit integer range."]},
        ),
        (
            {"key": "a", "value": 1, "timestamp": 1, "step": -(2**63) - 1},
            {0: ["-9223372036854775809 is outside the 64-bit integer range."]},
        ),
        (
            {"key": "a", "value": 10**400, "timestamp": 1},
            {0: ["The number is outside the double range."]},
        ),
    ],
)
def test_rejected_shapes(item: dict[str, Any], messages: dict[int, list[str]]) -> None:
    """Booleans are not numbers (though bool subclasses int); null, fractions and numbers the
    database cannot hold (beyond int64, or the double range) are refused, never a 500."""
    with pytest.raises(ValidationError) as raised:
        MetricList().deserialize([item])
    assert raised.value.messages == messages


def test_log_batch_over_http(sqlite_client: FlaskClient) -> None:
    """Plain and proto-JSON shapes are stored as given; a boolean value is a 400 naming it."""
    run: Any = sqlite_client.post(f"{API}/runs/create", json={"experiment_id": "0"}).json
    run_id = run["run"]["info"]["run_id"]
    metrics = [
        {"key": "m", "value": 1, "timestamp": 10, "step": 0},
        {"key": "m", "value": 2.5, "timestamp": 11, "step": 1},
        {"key": "m", "value": "NaN", "timestamp": "12", "step": 2.0},
    ]
    body = {"run_id": run_id, "metrics": metrics}
    assert sqlite_client.post(f"{API}/runs/log-batch", json=body).status_code == 200
    history: Any = sqlite_client.get(
        f"{API}/metrics/get-history", query_string={"run_id": run_id, "metric_key": "m"}
    ).json
    assert [(m["value"], m["timestamp"], m["step"]) for m in history["metrics"]] == [
        (1.0, 10, 0),
        (2.5, 11, 1),
        ("NaN", 12, 2),
    ]
    bad = {"run_id": run_id, "metrics": [metrics[0], {"key": "m", "value": True, "timestamp": 1}]}
    response = sqlite_client.post(f"{API}/runs/log-batch", json=bad)
    assert response.status_code == 400
    assert response.json == {
        "error_code": "INVALID_PARAMETER_VALUE",
        "message": 'Invalid value {"key":"m","timestamp":1,"value":true} for parameter '
        "'metrics[1]' supplied:  Hint: Value was of type 'dict'." + HINT,
        "details": {"metrics": {"1": ["Expected a number."]}},
    }


def test_whole_request_schema_keeps_the_point_index() -> None:
    """An error deep in a batch names the metrics field and the point's index."""
    good = {"key": "a", "value": 1, "timestamp": 1}
    body = {"run_id": "r", "metrics": [good, good, {"key": "a", "value": 1, "timestamp": True}]}
    with pytest.raises(ValidationError) as raised:
        LogBatchSchema().load(body)
    assert raised.value.messages == {"metrics": {2: ["Expected an integer."]}}
