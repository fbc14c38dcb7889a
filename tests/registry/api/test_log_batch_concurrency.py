"""log-batch over the API on every engine: a refused batch stores nothing while a concurrent good
one to the same run commits whole."""

from __future__ import annotations

import threading
from typing import Any

from flask import Flask

API = "/api/2.0/mlflow"


def _json(response: Any) -> dict[str, Any]:
    body: dict[str, Any] = response.json
    return body


def _batch(run_id: str, writer: int) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "metrics": [
            {"key": f"w{writer}-{i % 10}", "value": i * 0.5, "timestamp": 1, "step": i}
            for i in range(998)
        ],
        "params": [{"key": f"p{writer}", "value": "1"}],
        "tags": [{"key": f"t{writer}", "value": "v"}],
    }


def test_a_bad_metric_spoils_only_its_own_batch(app: Flask) -> None:
    client = app.test_client()
    run = _json(client.post(f"{API}/runs/create", json={"experiment_id": "0"}))["run"]
    run_id = run["info"]["run_id"]
    good, bad = _batch(run_id, 0), _batch(run_id, 1)
    bad["metrics"][-1] = {"key": "w1-0", "value": "not a number", "timestamp": 1, "step": 998}
    barrier = threading.Barrier(2)
    statuses: dict[str, int] = {}

    def post(name: str, body: dict[str, Any]) -> None:
        own = app.test_client()
        barrier.wait()
        statuses[name] = own.post(f"{API}/runs/log-batch", json=body).status_code

    threads = [threading.Thread(target=post, args=item) for item in (("good", good), ("bad", bad))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == {"good": 200, "bad": 400}
    data = _json(client.get(f"{API}/runs/get", query_string={"run_id": run_id}))["run"]["data"]
    assert data["params"] == [{"key": "p0", "value": "1"}]
    assert {tag["key"] for tag in data["tags"]} & {"t0", "t1"} == {"t0"}
    assert sorted(m["key"] for m in data["metrics"]) == [f"w0-{k}" for k in range(10)]
    history = _json(
        client.get(
            f"{API}/metrics/get-history", query_string={"run_id": run_id, "metric_key": "w0-3"}
        )
    )["metrics"]
    assert len(history) == 100  # steps 3, 13, ..., 993
    bad_history = _json(
        client.get(
            f"{API}/metrics/get-history", query_string={"run_id": run_id, "metric_key": "w1-0"}
        )
    )
    assert bad_history.get("metrics", []) == []
