"""Tracking under real load: concurrent clients, a killed server, hostile input."""

from __future__ import annotations

import json
import signal
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import free_port
from tests.servers import process, registry_server, server_args, stop

pytestmark = pytest.mark.e2e

API = "/api/2.0/mlflow"


def _new_run(base: str) -> str:
    response = httpx.post(f"{base}{API}/runs/create", json={"experiment_id": "0"})
    response.raise_for_status()
    return str(response.json()["run"]["info"]["run_id"])


def _history(base: str, run_id: str, key: str) -> list[dict[str, Any]]:
    query = {"run_id": run_id, "metric_key": key, "max_results": 25000}
    response = httpx.get(f"{base}{API}/metrics/get-history", params=query, timeout=30)
    response.raise_for_status()
    metrics: list[dict[str, Any]] = response.json().get("metrics", [])
    return metrics


def test_eight_clients_one_run_every_point_once(tmp_path: Path) -> None:
    clients, points = 8, 40
    with registry_server(tmp_path, workers=2) as base:
        run_id = _new_run(base)
        failures: list[str] = []

        def log(index: int) -> None:
            with httpx.Client(base_url=base, timeout=30) as http:
                for i in range(points):
                    step = index * points + i
                    body = {
                        "run_id": run_id,
                        "key": "loss",
                        "value": step,
                        "timestamp": 1,
                        "step": step,
                    }
                    response = http.post(f"{API}/runs/log-metric", json=body)
                    if response.status_code != 200:
                        failures.append(response.text)

        threads = [threading.Thread(target=log, args=(i,)) for i in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert failures == []
        steps = sorted(m["step"] for m in _history(base, run_id, "loss"))
        assert steps == list(range(clients * points))
        run = httpx.get(f"{base}{API}/runs/get", params={"run_id": run_id}).json()["run"]
        assert run["data"]["metrics"][0]["step"] == clients * points - 1


def test_sigkill_mid_stream_loses_nothing_acknowledged(tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path / 'kill.db'}"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    args = server_args(database_url, str(tmp_path / "artifacts"), port)
    acknowledged: list[int] = []
    with process(args, f"{base}/health", tmp_path / "first.log") as proc:
        run_id = _new_run(base)
        started = threading.Event()

        def log() -> None:
            with httpx.Client(base_url=base, timeout=5) as http:
                for step in range(100000):
                    metrics = [
                        {"key": "m", "value": step, "timestamp": 1, "step": step * 10 + j}
                        for j in range(10)
                    ]
                    try:
                        response = http.post(
                            f"{API}/runs/log-batch", json={"run_id": run_id, "metrics": metrics}
                        )
                    except httpx.HTTPError:
                        return
                    if response.status_code == 200:
                        acknowledged.extend(m["step"] for m in metrics)
                    if len(acknowledged) >= 300:
                        started.set()

        writer = threading.Thread(target=log)
        writer.start()
        assert started.wait(60)
        stop(proc, signal.SIGKILL)
        writer.join(30)
    assert len(acknowledged) >= 300
    with process(args, f"{base}/health", tmp_path / "second.log"):
        stored = {m["step"] for m in _history(base, run_id, "m")}
    assert set(acknowledged) <= stored


RUN = "<run>"
BAD_INPUTS: list[tuple[str, Any, int]] = [
    ("/runs/log-metric", b"{not json", 400),
    ("/runs/log-metric", {"key": "m", "value": 1, "timestamp": 1}, 400),
    ("/runs/log-metric", {"run_id": RUN, "key": "m", "value": "one", "timestamp": 1}, 400),
    ("/runs/log-metric", {"run_id": RUN, "key": "m", "value": 1, "timestamp": "soon"}, 400),
    ("/runs/log-metric", {"run_id": RUN, "key": "m", "value": 1}, 400),
    ("/runs/log-metric", {"run_id": RUN, "key": "k" * 251, "value": 1, "timestamp": 1}, 400),
    ("/runs/log-parameter", {"run_id": RUN, "key": "p", "value": "v" * 6001}, 400),
    ("/runs/log-parameter", {"run_id": RUN, "key": "fixed", "value": "changed"}, 400),
    ("/runs/set-tag", {"run_id": RUN, "key": "t", "value": "v" * 8001}, 400),
    ("/runs/set-tag", {"run_id": RUN, "key": "../t", "value": "v"}, 400),
    ("/runs/log-batch", {"run_id": RUN, "metrics": "not a list"}, 400),
    (
        "/runs/log-batch",
        {
            "run_id": RUN,
            "metrics": [{"key": "m", "value": 1, "timestamp": 1}],
            "params": [{"key": "new", "value": "1"}, {"key": "fixed", "value": "2"}],
        },
        400,
    ),
    ("/runs/log-metric", {"run_id": "f" * 32, "key": "m", "value": 1, "timestamp": 1}, 404),
    ("/runs/update", {"run_id": RUN, "status": "DONE"}, 400),
]


def test_bad_input_gets_4xx_and_changes_nothing(tmp_path: Path) -> None:
    with registry_server(tmp_path, workers=2) as base, httpx.Client(base_url=base) as http:
        run_id = _new_run(base)
        http.post(
            f"{API}/runs/log-parameter", json={"run_id": run_id, "key": "fixed", "value": "1"}
        )
        before = http.get(f"{API}/runs/get", params={"run_id": run_id}).json()
        for path, body, status in BAD_INPUTS:
            if isinstance(body, dict):
                body = {k: run_id if v == RUN else v for k, v in body.items()}
                content = json.dumps(body).encode()
            else:
                content = body
            headers = {"Content-Type": "application/json"}
            response = http.post(f"{API}{path}", headers=headers, content=content)
            assert response.status_code == status, (path, body, response.text)
            assert set(response.json()) >= {"error_code", "message"}
        after = http.get(f"{API}/runs/get", params={"run_id": run_id}).json()
        assert after == before
        assert _history(base, run_id, "m") == []
