"""``modelyard serve`` with two models (2 gunicorn workers) against a real registry server.

Each model follows its own stage or alias: promoting one moves only it. The model repository
extension's load and unload reach both workers. Which worker answers a request is up to
scheduling, so (as in test_serving_follow) the test proves what every worker does through the
metrics all workers write: ``modelyard_serving_model_version_info`` (the max over live workers)
and the count of ``modelyard_serving_model_load_seconds`` (one per load, in any worker).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest
import tritonclient.grpc as triton_grpc
import tritonclient.http as triton_http
from prometheus_client.parser import text_string_to_metric_families
from sklearn.linear_model import LinearRegression
from tritonclient.utils import InferenceServerException

import registry as mlflow
import registry.sklearn
from registry.client import Client
from registry.client.tracking_uri import reset_tracking_uri
from tests.conftest import free_port
from tests.servers import process, registry_server

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

WORKERS = 2
DEADLINE = 60.0
"""Generous, for a loaded machine: a change reaches every worker well within a second or two."""
TOKEN = "repository-token"
X = pd.DataFrame(np.arange(12.0).reshape(4, 3), columns=["a", "b", "c"])
BODY = {"dataframe_split": X.head(2).to_dict(orient="split", index=False)}
FACTORS = {("alpha", "1"): 1.0, ("alpha", "2"): 2.0, ("beta", "1"): 10.0, ("beta", "2"): 20.0}
"""Each registered version predicts its factor times the same linear target."""


def target(factor: float) -> list[float]:
    return list((X.a * 3 + X.b) * factor)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with registry_server(tmp_path_factory.mktemp("registry")) as base:
        mlflow.set_tracking_uri(base)
        try:
            for (name, _), factor in FACTORS.items():
                with mlflow.start_run():
                    registry.sklearn.log_model(
                        LinearRegression().fit(X, target(factor)),
                        name="model",
                        input_example=X.head(2),
                        registered_model_name=name,
                    )
            yield base
        finally:
            reset_tracking_uri()


def test_two_models_follow_their_own_targets_and_repository_changes_reach_every_worker(
    server: str, tmp_path: Path
) -> None:
    client = Client(server)
    client.transition_model_version_stage("alpha", "1", "Production")
    client.set_registered_model_alias("beta", "champion", "1")
    port = free_port()
    args = [
        sys.executable,
        "-m",
        "registry.cli",
        "serve",
        "--model",
        "a=models:/alpha/Production",
        "--model",
        "b=models:/beta@champion",
        "--tracking-uri",
        server,
        "--port",
        str(port),
        "--workers",
        str(WORKERS),
        "--allow-repository-changes",
    ]
    env = {"SERVING_REPOSITORY_TOKEN": TOKEN, "SERVING_POLL_INTERVAL": "1"}
    url = f"http://127.0.0.1:{port}"
    with process(args, f"{url}/ping", tmp_path / "serve.log", env=env):
        assert _predict(url, "a") == ("1", pytest.approx(target(1.0)[:2]))
        assert _predict(url, "b", header=True) == ("1", pytest.approx(target(10.0)[:2]))
        unnamed = httpx.post(f"{url}/invocations", json=BODY)
        assert unnamed.status_code == 400
        assert "X-Model-Name" in unnamed.json()["message"]
        assert httpx.post(f"{url}/invocations/zzz", json=BODY).status_code == 404
        v1 = httpx.post(f"{url}/v1/models/b:predict", json={"instances": X.head(1).values.tolist()})
        assert v1.json()["predictions"] == pytest.approx(target(10.0)[:1])

        # Promoting alpha moves a, in every worker; b stays where its alias is.
        client.transition_model_version_stage("alpha", "2", "Production", True)
        _wait(lambda: _served(url, "a") == {"2"}, "every worker serving alpha 2 as a")
        assert _served(url, "b") == {"1"}
        for _ in range(10):
            assert _predict(url, "a") == ("2", pytest.approx(target(2.0)[:2]))
            assert _predict(url, "b") == ("1", pytest.approx(target(10.0)[:2]))

        # Unload b: every worker stops serving it; readiness ignores it.
        auth = {"Authorization": f"Bearer {TOKEN}"}
        repository = f"{url}/v2/repository/models"
        assert httpx.post(f"{repository}/b/unload").status_code == 401
        assert httpx.post(f"{repository}/b/unload", headers=auth).status_code == 200
        _wait(lambda: _served(url, "b") == set(), "every worker unloading b")
        gone = httpx.post(f"{url}/invocations/b", json=BODY)
        assert (gone.status_code, gone.json()["error_code"]) == (503, "MODEL_NOT_READY")
        assert httpx.get(f"{url}/health").status_code == 200
        index = httpx.post(f"{url}/v2/repository/index").json()
        assert {r["name"]: r["state"] for r in index} == {"a": "READY", "b": "UNAVAILABLE"}

        # Load b again, then add c at a URI: each load happens once in every worker.
        loads = _load_count(url)
        loaded = httpx.post(f"{repository}/b/load", headers=auth, timeout=60)
        assert loaded.json() == {"name": "b", "version": "1", "state": "READY"}
        _wait(lambda: _load_count(url) == loads + WORKERS, "every worker loading b again")
        assert _predict(url, "b") == ("1", pytest.approx(target(10.0)[:2]))
        added = httpx.post(
            f"{repository}/c/load",
            json={"parameters": {"uri": "models:/beta/2"}},
            headers=auth,
            timeout=60,
        )
        assert added.json() == {"name": "c", "version": "2", "state": "READY"}
        _wait(lambda: _load_count(url) == loads + 2 * WORKERS, "every worker loading c")
        assert _served(url, "c") == {"2"}
        for _ in range(10):
            assert _predict(url, "c") == ("2", pytest.approx(target(20.0)[:2]))
        assert httpx.get(f"{url}/v1/models").json() == {"models": ["a", "b", "c"]}

        # The alias moves b alone, also after the reload.
        client.set_registered_model_alias("beta", "champion", "2")
        _wait(lambda: _served(url, "b") == {"2"}, "every worker serving beta 2 as b")
        assert _served(url, "a") == {"2"}
        samples = _samples(url)
    requests_a = samples.get(
        (
            "modelyard_serving_requests_total",
            (
                ("method", "POST"),
                ("model", "a"),
                ("route", "/invocations/<name>"),
                ("status", "200"),
            ),
        )
    )
    assert requests_a == 11.0
    assert ("modelyard_serving_in_flight_requests", ()) in samples


def test_tritonclient_grpc_and_http_serve_two_models_following_different_stages(
    server: str, tmp_path: Path
) -> None:
    """The issue's bar: one process, two models on different stages, both Triton clients."""
    client = Client(server)
    client.transition_model_version_stage("alpha", "1", "Staging", True)
    client.set_registered_model_alias("beta", "challenger", "1")
    port, grpc_port = free_port(), free_port()
    args = [
        sys.executable,
        "-m",
        "registry.cli",
        "serve",
        "--model",
        "staging=models:/alpha/Staging",
        "--model",
        "challenger=models:/beta@challenger",
        "--tracking-uri",
        server,
        "--port",
        str(port),
        "--grpc-port",
        str(grpc_port),
        "--workers",
        str(WORKERS),
    ]
    url = f"http://127.0.0.1:{port}"
    grpc_address = f"127.0.0.1:{grpc_port}"
    with process(args, f"{url}/ping", tmp_path / "serve.log", env={"SERVING_POLL_INTERVAL": "1"}):
        http = triton_http.InferenceServerClient(f"127.0.0.1:{port}")
        grpc = triton_grpc.InferenceServerClient(grpc_address)
        assert http.is_server_ready() and grpc.is_server_ready()
        for name, factor in (("staging", 1.0), ("challenger", 10.0)):
            assert http.is_model_ready(name) and grpc.is_model_ready(name)
            assert _triton(http, triton_http, name) == ("1", pytest.approx(target(factor)))
            assert _triton(grpc, triton_grpc, name) == ("1", pytest.approx(target(factor)))
        with pytest.raises(InferenceServerException, match="NOT_FOUND"):
            grpc.is_model_ready("zzz")  # as KServe's own gRPC server answers
        assert not http.is_model_ready("zzz")

        # Moving alpha's stage moves only the model that follows it, over both protocols.
        client.transition_model_version_stage("alpha", "2", "Staging", True)
        _wait(lambda: _served(url, "staging") == {"2"}, "every worker serving alpha 2")
        for _ in range(4):  # several calls, so both workers answer some
            assert _triton(grpc, triton_grpc, "staging") == ("2", pytest.approx(target(2.0)))
            assert _triton(http, triton_http, "staging") == ("2", pytest.approx(target(2.0)))
            assert _triton(grpc, triton_grpc, "challenger") == ("1", pytest.approx(target(10.0)))
        grpc.close()
        http.close()


def _triton(client: Any, module: Any, name: str) -> tuple[str, Any]:
    """Predict on X with one of tritonclient's clients: (the answering version, predictions)."""
    inputs = []
    for column in X.columns:
        tensor = module.InferInput(column, [len(X)], "FP64")
        tensor.set_data_from_numpy(np.ascontiguousarray(X[column].to_numpy()))
        inputs.append(tensor)
    result = client.infer(name, inputs)
    response = result.get_response()
    version = response["model_version"] if isinstance(response, dict) else response.model_version
    return version, list(result.as_numpy("predict"))


def _predict(url: str, name: str, header: bool = False) -> tuple[str, Any]:
    if header:
        response = httpx.post(
            f"{url}/invocations", json=BODY, headers={"X-Model-Name": name}, timeout=30
        )
    else:
        response = httpx.post(f"{url}/invocations/{name}", json=BODY, timeout=30)
    assert response.status_code == 200, response.text
    return response.headers["X-Model-Version"], response.json()["predictions"]


def _samples(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = httpx.get(f"{url}/metrics", timeout=30).text
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def _served(url: str, model: str) -> set[str]:
    """The versions of ``model`` some live worker serves (each reports only its own)."""
    return {
        dict(labels)["version"]
        for (name, labels), value in _samples(url).items()
        if name == "modelyard_serving_model_version_info"
        and dict(labels)["model"] == model
        and value == 1.0
    }


def _load_count(url: str) -> float:
    return _samples(url).get(("modelyard_serving_model_load_seconds_count", ()), 0.0)


def _wait(predicate: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)
