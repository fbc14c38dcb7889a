import json

import numpy as np
import pandas as pd
import pytest

from registry.errors import BadRequest, UnsupportedMediaType
from serving.protocols.mlflow import (
    REQUIRED_INPUT_FORMAT,
    media_type,
    parse_invocation,
    predictions_body,
)

JSON = "application/json"


def body(document: object) -> bytes:
    return json.dumps(document).encode()


@pytest.mark.parametrize(
    ("document", "kind", "data", "columns"),
    [
        (
            {"dataframe_split": {"columns": ["a", "b"], "data": [[1, 2.5], [3, 4]]}},
            "rows",
            [[1, 2.5], [3, 4]],
            ["a", "b"],
        ),
        (
            {"dataframe_split": {"columns": ["a", "b"], "data": [[1, 2]], "index": [7]}},
            "rows",
            [[1, 2]],
            ["a", "b"],
        ),
        ({"dataframe_split": {"columns": ["a"], "data": [1, 2]}}, "rows", [[1], [2]], ["a"]),
        ({"dataframe_records": [{"a": 1, "b": 2}]}, "records", [{"a": 1, "b": 2}], None),
        ({"instances": [{"a": 1, "b": 2}]}, "records", [{"a": 1, "b": 2}], None),
        ({"inputs": [{"a": 1, "b": 2}]}, "records", [{"a": 1, "b": 2}], None),
        ({"instances": [[1, 2], [3, 4]]}, "tensor", [[1, 2], [3, 4]], None),
        ({"inputs": [[1, 2], [3, 4]]}, "tensor", [[1, 2], [3, 4]], None),
        ({"inputs": {"a": [1, 3], "b": [2, 4]}}, "columns", {"a": [1, 3], "b": [2, 4]}, None),
        ({"instances": {"a": [1, 3], "b": [2, 4]}}, "columns", {"a": [1, 3], "b": [2, 4]}, None),
    ],
)
def test_json_formats_parse_to_one_shape(
    document: dict[str, object], kind: str, data: object, columns: list[str] | None
) -> None:
    inv = parse_invocation(body(document), "application/json; charset=utf-8")
    assert (inv.kind, inv.data, inv.columns, inv.params) == (kind, data, columns, None)


def test_params_are_passed_through() -> None:
    inv = parse_invocation(body({"inputs": [[1]], "params": {"k": 3}}), JSON)
    assert inv.params == {"k": 3}


def test_row_count_counts_rows_of_every_shape() -> None:
    assert parse_invocation(body({"inputs": {"a": [1, 2, 3]}}), JSON).row_count == 3
    assert parse_invocation(body({"dataframe_records": [{"a": 1}] * 4}), JSON).row_count == 4


def test_csv_is_read_with_its_header() -> None:
    inv = parse_invocation(b"a,b\n1,2.5\n3,4\n", "text/csv")
    assert inv.kind == "frame"
    assert list(inv.data.columns) == ["a", "b"]
    assert inv.data.to_numpy().tolist() == [[1.0, 2.5], [3.0, 4.0]]


@pytest.mark.parametrize(
    ("raw", "content_type", "message"),
    [
        (b"this is not json", JSON, "Invalid input. Ensure that input is a valid JSON"),
        (b"", JSON, "Invalid input. Ensure that input is a valid JSON"),
        (body([[1, 2]]), JSON, f"{REQUIRED_INPUT_FORMAT}. Received a list."),
        (body({"columns": ["a"], "data": [[1]]}), JSON, "Received dictionary with input fields"),
        (body({"inputs": [[1]], "instances": [[1]]}), JSON, "exactly one of the input fields"),
        (
            body({"dataframe_split": {"columns": ["a", "b", "c"], "data": [[1, 2]]}}),
            JSON,
            "Error: '3 columns passed, passed data had 2 columns'",
        ),
        (body({"dataframe_split": [[1, 2]]}), JSON, "not a valid dataframe representation"),
        (body({"dataframe_records": [1, 2]}), JSON, "'records' format"),
        (body({"inputs": "abc"}), JSON, "'inputs' must be"),
        (body({"inputs": [[1]], "params": [1]}), JSON, "'params' must be a JSON object"),
        (b"", "text/csv", "not valid CSV"),
        (b'a,b\n"1,2\n', "text/csv", "not valid CSV"),
    ],
)
def test_malformed_bodies_are_bad_requests(raw: bytes, content_type: str, message: str) -> None:
    with pytest.raises(BadRequest) as info:
        parse_invocation(raw, content_type)
    assert message in info.value.message
    assert info.value.http_status == 400


@pytest.mark.parametrize(
    "content_type", [None, "", "text/plain", "application/xml", "application/json; charset=latin-1"]
)
def test_other_content_types_are_415(content_type: str | None) -> None:
    with pytest.raises(UnsupportedMediaType) as info:
        media_type(content_type)
    assert info.value.http_status == 415


def test_415_message_is_mlflows() -> None:
    with pytest.raises(UnsupportedMediaType) as info:
        media_type("text/plain")
    assert info.value.message == (
        "This predictor only supports the following content types: "
        "Types: ['text/csv', 'application/json']. Got 'text/plain'."
    )


@pytest.mark.parametrize(
    ("predictions", "expected"),
    [
        (np.array([1.5, 2.0]), [1.5, 2.0]),
        (np.array([[1, 2], [3, 4]]), [[1, 2], [3, 4]]),
        (np.array([1.0, np.nan]), [1.0, None]),
        (pd.DataFrame({"a": [1, 2]}), [{"a": 1}, {"a": 2}]),
        (pd.Series([1.5, 2.5], name="y"), [{"y": 1.5}, {"y": 2.5}]),
        ([1, "x"], [1, "x"]),
        (np.array(["a", "b"], dtype=object), ["a", "b"]),
    ],
)
def test_predictions_body_shapes_like_mlflow(predictions: object, expected: object) -> None:
    assert json.loads(predictions_body(predictions)) == {"predictions": expected}
