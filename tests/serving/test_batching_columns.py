"""Bodies of one tensor per column (MLServer's pandas codec) join micro-batches too."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.serving.conftest import make_app
from tests.serving.test_batching import _batched

URL = "/v2/models/model/infer"


def column_body(i: int) -> dict[str, Any]:
    """Request ``i``: 1-3 rows, one tensor per column, dtypes, shapes and order varying."""
    rows = 1 + i % 3
    values = {
        "a": [i + r for r in range(rows)],
        "b": [0.5 * (i % 3) + r for r in range(rows)],
        "c": [1.0 - r for r in range(rows)],
    }
    datatypes = {"a": "INT64" if i % 2 else "FP64", "b": "FP64", "c": "FP32" if i % 3 else "FP64"}
    order = ["c", "a", "b"] if i % 2 else ["a", "b", "c"]  # odd requests: not the signature's
    tensors = []
    for name in order:
        shape = [rows, 1] if (i + len(name)) % 2 else [rows]
        tensors.append({"name": name, "shape": shape, "datatype": datatypes[name]})
        tensors[-1]["data"] = values[name]
    if i == 5:  # no column c: the same 400 as without batching
        tensors = [t for t in tensors if t["name"] != "c"]
    return {"inputs": tensors}


def test_per_column_requests_are_merged_and_each_gets_its_unbatched_answer(
    model_dirs: dict[str, Path],
) -> None:
    alone = make_app(model_dirs["signature"]).test_client()
    app = make_app(model_dirs["signature"], batch_max_latency_ms=50.0, batch_max_rows=64, threads=8)
    app.extensions["serving"].start()
    client = app.test_client()
    barrier = threading.Barrier(8)

    def one(i: int) -> tuple[int, Any]:
        body = column_body(i)
        barrier.wait()
        answer = client.post(URL, json=body)
        return answer.status_code, answer.get_json()

    metrics = client.get("/metrics").get_data(as_text=True)
    calls, requests = _batched(metrics), _batched(metrics, "sum")
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(one, range(8)))
    for i, (status, body) in enumerate(results):
        unbatched = alone.post(URL, json=column_body(i))
        assert status == unbatched.status_code, body
        want = unbatched.get_json()
        if status != 200:
            assert i == 5 and status == 400
            assert body == want
            assert "'c'" in body["message"]
            continue
        predicted, expected = body["outputs"][0], want["outputs"][0]
        # A merged predict may round the last bit differently (BLAS): compare to an ulp.
        assert predicted["data"] == pytest.approx(expected["data"], rel=1e-12, abs=1e-12)
        assert {**predicted, "data": None} == {**expected, "data": None}
    metrics = client.get("/metrics").get_data(as_text=True)
    assert _batched(metrics, "sum") - requests == 7, "every good request went through the batcher"
    assert _batched(metrics) - calls < 7, "no two requests shared a predict call"


@pytest.mark.parametrize(
    "columns",
    [{"c": [3.0, 4.0], "a": [1, 2], "b": [0.5, 1.0]}, {"a": [1.0], "b": [0.5], "c": [3.0]}],
    ids=["reordered", "in-order"],
)
def test_an_inputs_object_of_columns_answers_as_without_batching(
    model_dirs: dict[str, Path], columns: dict[str, list[float]]
) -> None:
    alone = make_app(model_dirs["signature"]).test_client()
    app = make_app(model_dirs["signature"], batch_max_latency_ms=5.0)
    app.extensions["serving"].start()
    client = app.test_client()
    before = _batched(client.get("/metrics").get_data(as_text=True), "sum")
    batched = client.post("/invocations", json={"inputs": columns})
    unbatched = alone.post("/invocations", json={"inputs": columns})
    assert batched.status_code == unbatched.status_code == 200
    want = unbatched.get_json()["predictions"]
    assert batched.get_json()["predictions"] == pytest.approx(want, rel=1e-12, abs=1e-12)
    after = _batched(client.get("/metrics").get_data(as_text=True), "sum")
    assert after - before == 1, "the request went through the batcher"
