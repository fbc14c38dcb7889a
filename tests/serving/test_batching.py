from __future__ import annotations

import logging
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import grpc
import pytest
from tritonclient.grpc import service_pb2, service_pb2_grpc

from serving.gunicorn_app import start_grpc
from tests.conftest import free_port
from tests.serving.conftest import COLUMNS, expected, make_app


def test_concurrent_requests_share_predict_calls_and_get_their_own_rows(
    model_dirs: dict[str, Path],
) -> None:
    app = make_app(model_dirs["signature"], batch_max_latency_ms=20.0, batch_max_rows=64)
    app.extensions["serving"].start()
    client = app.test_client()
    barrier = threading.Barrier(8)

    def one(i: int) -> tuple[list[list[float]], object, int]:
        rows = [[float(i), float(i % 3), 1.0]] * (1 + i % 3)
        body = {"dataframe_split": {"columns": COLUMNS, "data": rows}}
        if i % 4 == 3:  # a null in a required column fails the merged call
            body = {"dataframe_split": {"columns": COLUMNS, "data": [[None, 1.0, 1.0]]}}
        barrier.wait()
        response = client.post("/invocations", json=body)
        return rows, response.get_json(), response.status_code

    before = _batched(client.get("/metrics").get_data(as_text=True))
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(one, range(8)))
    for i, (rows, body, status) in enumerate(results):
        if i % 4 == 3:
            assert status == 400
            assert "'a'" in body["message"]  # type: ignore[index]
        else:
            assert status == 200
            assert body == {"predictions": pytest.approx(expected(rows))}
    merged = _batched(client.get("/metrics").get_data(as_text=True)) - before
    assert merged < 8, "no two requests shared a predict call"


def _batched(text: str, sample: str = "count") -> float:
    # count: predict calls the batcher made; sum: requests it answered.
    match = re.search(rf"^modelyard_serving_batch_requests_{sample} ([\d.]+)$", text, re.M)
    return float(match.group(1)) if match else 0.0


def test_concurrent_v2_rest_and_grpc_requests_share_predict_calls(
    model_dirs: dict[str, Path],
) -> None:
    app = make_app(
        model_dirs["signature"],
        batch_max_latency_ms=50.0,
        batch_max_rows=64,
        grpc_port=free_port(),
        threads=4,
    )
    serving = app.extensions["serving"]
    serving.start()
    start_grpc(serving, logging.getLogger(__name__))  # as each gunicorn worker does
    client = app.test_client()
    barrier = threading.Barrier(8)
    channel = grpc.insecure_channel(f"127.0.0.1:{serving.config.grpc_port}")
    stub = service_pb2_grpc.GRPCInferenceServiceStub(channel)

    def one(i: int) -> tuple[list[list[float]], list[float]]:
        rows = [[float(i), float(i % 3), 1.0]] * (1 + i % 3)
        barrier.wait()
        if i % 2:
            request = service_pb2.ModelInferRequest(model_name="model")
            tensor = request.inputs.add(name="x", datatype="FP64", shape=[len(rows), 3])
            tensor.contents.fp64_contents.extend(v for row in rows for v in row)
            return rows, list(stub.ModelInfer(request).outputs[0].contents.fp64_contents)
        body = {
            "inputs": [{"name": "x", "shape": [len(rows), 3], "datatype": "FP64", "data": rows}]
        }
        answer = client.post("/v2/models/model/infer", json=body)
        assert answer.status_code == 200, answer.get_json()
        return rows, answer.get_json()["outputs"][0]["data"]

    metrics = client.get("/metrics").get_data(as_text=True)
    calls, requests = _batched(metrics), _batched(metrics, "sum")
    try:
        with ThreadPoolExecutor(8) as pool:
            results = list(pool.map(one, range(8)))
    finally:
        channel.close()
        serving.stop_grpc(0)
    for rows, predicted in results:
        assert predicted == pytest.approx(expected(rows))
    metrics = client.get("/metrics").get_data(as_text=True)
    assert _batched(metrics, "sum") - requests == 8, "every request went through the batcher"
    assert _batched(metrics) - calls < 8, "no two requests shared a predict call"
