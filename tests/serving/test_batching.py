from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

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


def _batched(text: str) -> float:
    match = re.search(r"^modelyard_serving_batch_requests_count ([\d.]+)$", text, re.M)
    return float(match.group(1)) if match else 0.0
