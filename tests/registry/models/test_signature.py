from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from registry.errors import InvalidParameter
from registry.models.schema import ColSpec, Schema, TensorSpec
from registry.models.signature import ModelSignature, enforce_schema, infer_signature


@pytest.fixture
def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "d": [1.5, 2.5],
            "f": np.array([1.0, 2.0], dtype=np.float32),
            "l": [1, 2],
            "i": np.array([1, 2], dtype=np.int32),
            "b": [True, False],
            "s": ["x", None],
            "t": pd.to_datetime(["2024-01-01", "2024-01-02"]),
            "y": [b"a", b"b"],
        }
    )


@pytest.fixture
def numeric() -> ModelSignature:
    return ModelSignature(Schema((ColSpec("double", "x"), ColSpec("long", "n"))))


def test_infer_columns_gives_mlflow_types_and_required(frame):
    sig = infer_signature(frame)
    specs = json.loads(sig.to_dict()["inputs"])
    assert [(s["name"], s["type"], s["required"]) for s in specs] == [
        ("d", "double", True),
        ("f", "float", True),
        ("l", "long", True),
        ("i", "integer", True),
        ("b", "boolean", True),
        ("s", "string", False),
        ("t", "datetime", True),
        ("y", "binary", True),
    ]


def test_infer_tensor_from_array_with_any_first_dimension():
    sig = infer_signature(np.zeros((4, 3), dtype=np.float32), np.zeros(4))
    assert sig.to_dict() == {
        "inputs": '[{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 3]}}]',
        "outputs": '[{"type": "tensor", "tensor-spec": {"dtype": "float64", "shape": [-1]}}]',
        "params": None,
    }


def test_signature_json_round_trip(frame):
    sig = infer_signature(frame, pd.Series([1.0, 2.0]))
    assert ModelSignature.from_dict(sig.to_dict()) == sig


def test_mlflow_json_with_complex_types_reads():
    text = '[{"type": "double", "name": "x"}, {"type": {"type": "array", "items": "long"}}]'
    schema = Schema.from_json(text)
    assert schema.specs[0] == ColSpec("double", "x", True)
    assert schema.names is None


def test_malformed_schema_is_invalid_parameter():
    with pytest.raises(InvalidParameter, match="invalid signature schema"):
        Schema.from_json("[{}]")


def test_ints_into_double_and_extra_columns_dropped(numeric):
    out = enforce_schema({"x": [1, 2], "n": [3, 4], "extra": ["a", "b"]}, numeric)
    assert list(out.columns) == ["x", "n"]
    assert out["x"].dtype == np.float64 and out["n"].dtype == np.int64


def test_numeric_strings_cast_and_integral_floats_into_long(numeric):
    out = enforce_schema([{"x": "1.5", "n": 2.0}], numeric)
    assert out.iloc[0].tolist() == [1.5, 2]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"x": [1.0]}, r"missing input column\(s\) 'n' \(long\)"),
        ({"x": ["abc"], "n": [1]}, r"column 'x': expected double, got 'abc'"),
        ({"x": [1.0], "n": [1.5]}, r"column 'n': expected long, got 1.5"),
        ({"x": [None, 1.0], "n": [1, 2]}, r"column 'x': is required but row 0 is null"),
        ({"x": [True], "n": [1]}, r"column 'x': expected double, got True"),
        ([[1.0, 2, 3]], r"expected rows of 2 values \(columns x, n\), got rows of 3 values"),
        ([[1.0, 2], [1.0]], r"rows of different lengths"),
    ],
)
def test_enforcement_errors_name_the_column(numeric, data, message):
    with pytest.raises(InvalidParameter, match=message):
        enforce_schema(data, numeric)


def test_positional_rows_follow_signature_order(numeric):
    out = enforce_schema([[1.5, 2]], numeric)
    assert out.to_dict("records") == [{"x": 1.5, "n": 2}]


def test_string_boolean_datetime_columns():
    sig = Schema((ColSpec("string", "s"), ColSpec("boolean", "b"), ColSpec("datetime", "t")))
    out = enforce_schema({"s": ["a"], "b": [True], "t": ["2024-05-01"]}, sig)
    assert out["t"].iloc[0] == pd.Timestamp("2024-05-01")
    with pytest.raises(InvalidParameter, match="column 's': expected string, got 3"):
        enforce_schema({"s": [3], "b": [True], "t": ["2024-05-01"]}, sig)
    with pytest.raises(InvalidParameter, match="column 't': expected datetime, got 'soon'"):
        enforce_schema({"s": ["a"], "b": [True], "t": ["soon"]}, sig)


def test_optional_column_may_be_missing_or_null():
    sig = Schema((ColSpec("double", "x"), ColSpec("long", "n", required=False)))
    assert list(enforce_schema({"x": [1.0]}, sig).columns) == ["x"]
    assert enforce_schema({"x": [1.0, 2.0], "n": [None, 3]}, sig)["n"].isna().tolist() == [
        True,
        False,
    ]


def test_tensor_rank_shape_and_dtype():
    sig = Schema((TensorSpec("float64", (-1, 2)),))
    assert enforce_schema([[1, 2]], sig).dtype == np.float64
    with pytest.raises(InvalidParameter, match=r"rank 2.*got rank 1"):
        enforce_schema(np.zeros(2), sig)
    with pytest.raises(InvalidParameter, match=r"shape \[-1, 2\], got shape \[1, 3\]"):
        enforce_schema(np.zeros((1, 3)), sig)
    with pytest.raises(InvalidParameter, match="got 'abc'"):
        enforce_schema([["abc", 1]], sig)


def test_unsupported_input_kind():
    with pytest.raises(InvalidParameter, match="unsupported input set"):
        enforce_schema({"hello"}, None)


def test_one_value_is_a_table_of_one_cell():
    frame = enforce_schema("hello", None)
    assert frame.shape == (1, 1) and frame.iloc[0, 0] == "hello"


def test_binary_column_accepts_bytes_and_base64_text():
    sig = Schema((ColSpec("binary", "blob"),))
    assert enforce_schema({"blob": ["aGVsbG8="]}, sig)["blob"].tolist() == [b"hello"]
    assert enforce_schema({"blob": [b"raw"]}, sig)["blob"].tolist() == [b"raw"]
    with pytest.raises(InvalidParameter, match="column 'blob': expected binary, got 'not base64!'"):
        enforce_schema({"blob": ["not base64!"]}, sig)


def test_unnamed_columns_are_positional():
    sig = Schema((ColSpec("double"), ColSpec("string")))
    out = enforce_schema([[1, "a"], [2, "b"]], sig)
    assert out.to_numpy().tolist() == [[1.0, "a"], [2.0, "b"]]
    with pytest.raises(InvalidParameter, match="column '1': expected string, got 3"):
        enforce_schema([[1, 3]], sig)


def test_mixed_rows_keep_their_value_types():
    sig = Schema((ColSpec("double", "x"), ColSpec("boolean", "flag")))
    out = enforce_schema([[1.5, True]], sig)
    assert out.to_dict("records") == [{"x": 1.5, "flag": True}]
    with pytest.raises(InvalidParameter, match="column 'flag': expected boolean, got 'yes'"):
        enforce_schema([[1.5, "yes"]], sig)
