"""The same bad requests to a real ``mlflow server`` (3.17.2) and to ours: the same answers.

Status, ``error_code`` and message text are compared where clients and scripts match on them
(MLflow's error bodies also carry ``sqlstate`` and ``error_class``, which no client reads).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import free_port
from tests.mlflow_env import MLFLOW_SERVER, MLFLOW_SERVER_QUIET, mlflow_python
from tests.servers import process, registry_server

pytestmark = [pytest.mark.compat, pytest.mark.e2e, pytest.mark.timeout(600)]
API = "/api/2.0/mlflow"


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """``{"mlflow": url, "ours": url}``: both servers, started once for the module."""
    tmp = tmp_path_factory.mktemp("errors-vs-mlflow")
    python = mlflow_python(MLFLOW_SERVER)
    port = free_port()
    mlflow = [
        str(python), "-m", "mlflow", "server",
        "--backend-store-uri", f"sqlite:///{tmp / 'mlflow.db'}",
        "--artifacts-destination", str(tmp / "mlflow-artifacts"),
        "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
    ]  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    with (
        process(mlflow, f"{url}/health", tmp / "mlflow.log", env=MLFLOW_SERVER_QUIET, timeout=180),
        registry_server(tmp, workers=1) as ours,
    ):
        yield {"mlflow": url, "ours": ours}


def _answer(base: str, method: str, path: str, body: Any = None) -> tuple[int, str, str]:
    reply = httpx.request(method, base + path, json=body, timeout=30)
    data = reply.json()
    return reply.status_code, data["error_code"], data["message"]


BAD_REQUESTS = [
    ("POST", "/experiments/create", {"name": 123}),
    ("POST", "/experiments/create", {}),
    ("POST", "/experiments/create", {"name": None}),
    ("POST", "/experiments/create", {"name": "x", "tags": "a"}),
    ("POST", "/runs/create", {"experiment_id": "0", "start_time": "abc"}),
    ("GET", "/runs/get", None),
    ("POST", "/runs/log-metric", {"key": "m", "value": 1, "timestamp": 1}),
    ("POST", "/runs/log-metric", {"run_id": "abc", "key": "m", "value": "x", "timestamp": 1}),
    ("POST", "/runs/log-parameter", {"run_id": "abc", "key": "k", "value": 5}),
    ("POST", "/runs/log-batch", {"run_id": "abc", "metrics": "x"}),
    ("GET", "/experiments/search?max_results=abc", None),
    ("POST", "/experiments/search", {"max_results": "abc"}),
]


@pytest.mark.parametrize(("method", "path", "body"), BAD_REQUESTS)
def test_refused_requests_answer_as_mlflow_does(
    servers: dict[str, str], method: str, path: str, body: Any
) -> None:
    theirs = _answer(servers["mlflow"], method, API + path, body)
    ours = _answer(servers["ours"], method, API + path, body)

    assert ours == theirs
    assert theirs[:2] == (400, "INVALID_PARAMETER_VALUE")


@pytest.mark.parametrize("path", ["../x", "a/../../b", "a%2F..%2F..%2Fb"])
def test_an_escaping_artifact_path_is_an_invalid_path(servers: dict[str, str], path: str) -> None:
    answers = {}
    for name, base in servers.items():
        run = httpx.post(f"{base}{API}/runs/create", json={"experiment_id": "0"}, timeout=30)
        run_id = run.json()["run"]["info"]["run_id"]
        answers[name] = _answer(base, "GET", f"{API}/artifacts/list?run_id={run_id}&path={path}")

    assert answers["ours"][:2] == answers["mlflow"][:2] == (400, "INVALID_PARAMETER_VALUE")
    assert answers["mlflow"][2] == "Invalid path"
    assert answers["ours"][2].startswith("Invalid path ")  # then which path, and why


def test_version_is_the_mlflow_release_whose_protocol_we_speak(servers: dict[str, str]) -> None:
    theirs = httpx.get(f"{servers['mlflow']}/version", timeout=30)
    ours = httpx.get(f"{servers['ours']}/version", timeout=30)

    assert (ours.status_code, ours.text) == (theirs.status_code, theirs.text) == (200, "3.17.2")
    assert "X-Modelyard-Version" in ours.headers
