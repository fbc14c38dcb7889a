"""A JSON ``/invocations`` request gets the same answer whichever way the server takes it.

The server answers the plain case without Flask (``serving.fastpath``); naming the model in
the ``X-Model-Name`` header sends the same request through Flask's view. Both must give the
same status, body and headers, and count alike in the metrics.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from tests.serving.conftest import make_app

HEADERS = (
    "Content-Type",
    "Content-Encoding",
    "Vary",
    "Warning",
    "Retry-After",
    "X-Model-Version",
    "X-Model-Run-Id",
)
ROWS = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.5]]
SPLIT = {"dataframe_split": {"columns": ["a", "b", "c"], "data": ROWS}}
CASES: dict[str, tuple[bytes, dict[str, str]]] = {
    "split": (json.dumps(SPLIT).encode(), {}),
    "records": (json.dumps({"dataframe_records": [{"a": 1, "b": 2, "c": 3}]}).encode(), {}),
    "inputs": (json.dumps({"inputs": ROWS}).encode(), {}),
    "undeclared params": (json.dumps({**SPLIT, "params": {"k": 1}}).encode(), {}),
    "a line break in a param's name": (
        json.dumps({**SPLIT, "params": {"k\r\nX-Injected: 1": 1}}).encode(),
        {},
    ),
    "a control character and CJK in a param's name": (
        json.dumps({**SPLIT, "params": {"\u6e29\u5ea6\x1b": 1}}).encode(),
        {},
    ),
    "charset": (json.dumps(SPLIT).encode(), {"Content-Type": "application/json; charset=utf-8"}),
    "other charset": (
        json.dumps(SPLIT).encode(),
        {"Content-Type": "application/json; charset=latin-1"},
    ),
    "NaN": (b'{"dataframe_split": {"columns": ["a", "b", "c"], "data": [[NaN, 1, 2]]}}', {}),
    "null": (
        json.dumps(
            {"dataframe_split": {"columns": ["a", "b", "c"], "data": [[None, 1, 2]]}}
        ).encode(),
        {},
    ),
    "wrong width": (json.dumps({"inputs": [[1.0, 2.0]]}).encode(), {}),
    "extra column": (
        json.dumps(
            {"dataframe_split": {"columns": ["a", "b", "c", "d"], "data": [[1, 2, 3, 4]]}}
        ).encode(),
        {},
    ),
    "text": (
        json.dumps(
            {"dataframe_split": {"columns": ["a", "b", "c"], "data": [["x", 1, 2]]}}
        ).encode(),
        {},
    ),
    "not JSON": (b"{nope", {}),
    "a list": (b"[1, 2]", {}),
    "two fields": (json.dumps({**SPLIT, "inputs": ROWS}).encode(), {}),
    "gzip body": (gzip.compress(json.dumps(SPLIT).encode()), {"Content-Encoding": "gzip"}),
    "bad gzip": (b"not gzip", {"Content-Encoding": "gzip"}),
    "unknown coding": (json.dumps(SPLIT).encode(), {"Content-Encoding": "br"}),
    "gzip answer": (
        json.dumps({"inputs": [[float(i), 1.0, 2.0] for i in range(200)]}).encode(),
        {"Accept-Encoding": "gzip"},
    ),
    "small answer, gzip accepted": (json.dumps(SPLIT).encode(), {"Accept-Encoding": "gzip"}),
    "too large": (json.dumps({"inputs": [[1.5, 2.5, 3.5]] * 400}).encode(), {}),
}


def answer(client: FlaskClient, body: bytes, headers: dict[str, str]) -> tuple[int, object, dict]:
    response = client.post(
        "/invocations", data=body, headers={"Content-Type": "application/json", **headers}
    )
    data = response.get_data()
    if response.headers.get("Content-Encoding") == "gzip":
        data = gzip.decompress(data)
    kept = {name: response.headers.get(name) for name in HEADERS}
    return response.status_code, json.loads(data), kept


@pytest.mark.parametrize("model", ["signature", "plain"])
@pytest.mark.parametrize("case", list(CASES))
def test_naming_the_model_or_not_gives_the_same_answer(
    model_dirs: dict[str, Path], model: str, case: str
) -> None:
    client = make_app(model_dirs[model], max_request_bytes=8192).test_client()
    body, headers = CASES[case]
    fast = answer(client, body, headers)
    named = answer(client, body, {**headers, "X-Model-Name": "model"})
    assert fast == named
    if case == "split":
        assert fast[0] == 200 and len(fast[1]["predictions"]) == 2  # type: ignore[index]
    if case == "a line break in a param's name":
        assert fast[0] == 200 and "k\\r\\nX-Injected: 1" in str(fast[2]["Warning"])
    if case == "a control character and CJK in a param's name":
        assert fast[0] == 200 and "\\u6e29\\u5ea6\\x1b" in str(fast[2]["Warning"])


def metric_values(client: FlaskClient) -> dict[str, float]:
    text = client.get("/metrics").get_data(as_text=True)
    pairs = (line.rsplit(" ", 1) for line in text.splitlines() if not line.startswith("#"))
    return {
        name: float(value)
        for name, value in pairs
        if name.startswith("modelyard_serving")
        and "_created" not in name
        and "/metrics" not in name
    }


def test_both_ways_count_alike_in_the_metrics(model_dirs: dict[str, Path]) -> None:
    client = make_app(model_dirs["signature"]).test_client()
    good, bad = json.dumps(SPLIT).encode(), b"{nope"
    changes = []
    for headers in ({}, {"X-Model-Name": "model"}):
        before = metric_values(client)
        for body in (good, good, bad):
            client.post(
                "/invocations", data=body, headers={"Content-Type": "application/json", **headers}
            )
        after = metric_values(client)
        changes.append(
            {
                name: value - before.get(name, 0.0)
                for name, value in after.items()
                if value != before.get(name, 0.0) and "duration_seconds" not in name
            }
        )
    fast, named = changes
    assert fast == named
    requests = 'modelyard_serving_requests_total{method="POST",model="model",route="/invocations"'
    assert fast[f'{requests},status="200"}}'] == 2
    assert fast[f'{requests},status="400"}}'] == 1
    assert fast['modelyard_serving_rows_predicted_total{model="model"}'] == 4
    errors = 'modelyard_serving_prediction_errors_total{error_code="BAD_REQUEST",model="model"}'
    assert fast[errors] == 1
