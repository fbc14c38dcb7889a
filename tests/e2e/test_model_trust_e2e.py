"""Models are trusted before they run: the code-execution finding of issue 20, replayed.

A real ``modelyard server`` and a real ``modelyard serve models:/trust/Production`` with no
credentials anywhere. Two attacks: the files of a registered version are replaced through the
artifact API (``MLmodel`` without hashes plus a pickle that runs code), and a version whose
``MLmodel`` has no hashes and whose model is pickled is registered. Each is promoted to
Production; serving refuses it, keeps serving the trusted version and says why, and the payload
never runs. The client's ``load_model("models:/...")`` refuses the tampered directory too.
"""

from __future__ import annotations

import pickle
import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest
import yaml
from sklearn.linear_model import LinearRegression

import registry as mlflow
import registry.pyfunc
import registry.sklearn
from registry.client import Client
from registry.client.tracking_uri import reset_tracking_uri
from registry.errors import InvalidParameter
from tests.conftest import free_port
from tests.servers import process, registry_server

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]

NAME = "trust"
X = pd.DataFrame(np.arange(12.0).reshape(4, 3), columns=["a", "b", "c"])
BODY = {"dataframe_split": X.head(2).to_dict(orient="split", index=False)}
ARTIFACTS = "/api/2.0/mlflow-artifacts/artifacts"


class Payload:
    """Unpickling this writes ``marker``: the attacker's code running in the loader."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (exec, (f"open({str(self.marker)!r}, 'w').write('pwned')",))


def _pickled_model(marker: Path) -> dict[str, bytes]:
    """An MLmodel with no file hashes and a cloudpickle-format sklearn model that runs code."""
    mlmodel = {
        "flavors": {
            "python_function": {"loader_module": "mlflow.sklearn", "model_path": "model.pkl"},
            "sklearn": {"pickled_model": "model.pkl", "serialization_format": "cloudpickle"},
        }
    }
    return {"MLmodel": yaml.safe_dump(mlmodel).encode(), "model.pkl": pickle.dumps(Payload(marker))}


def _upload(base: str, directory: str, files: dict[str, bytes]) -> None:
    for name, content in files.items():
        response = httpx.put(f"{base}{ARTIFACTS}/{directory}/{name}", content=content)
        assert response.status_code == 200, response.text


def _wait_for_failure(url: str, version: str) -> dict[str, str]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        health: dict[str, str] = httpx.get(f"{url}/health", timeout=10).json()
        if health["failed_version"] == version:
            return health
        time.sleep(0.2)
    raise AssertionError(f"serving never reported version {version} as failed: {health}")


def _answered_by_trusted(url: str, expected: list[float]) -> None:
    response = httpx.post(f"{url}/invocations", json=BODY, timeout=30)
    assert response.status_code == 200, response.text
    assert response.headers["X-Model-Version"] == "1"
    assert response.json()["predictions"] == pytest.approx(expected)


def test_tampered_and_pickled_versions_never_run(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    with registry_server(tmp_path, workers=1) as base:
        mlflow.set_tracking_uri(base)
        try:
            _attack(base, tmp_path, marker)
        finally:
            reset_tracking_uri()
    assert not marker.exists(), "the attacker's pickle ran"


def _attack(base: str, tmp_path: Path, marker: Path) -> None:
    client = Client(base)
    trusted = LinearRegression().fit(X, X.a + X.b)
    with mlflow.start_run() as run:
        first = registry.sklearn.log_model(trusted, name="model")
        second = registry.sklearn.log_model(LinearRegression().fit(X, X.c), name="second")
    for info in (first, second):
        mlflow.register_model(info.model_uri, NAME)
    client.transition_model_version_stage(NAME, "1", "Production")
    shown = subprocess.run(
        [
            sys.executable,
            "-m",
            "registry.cli",
            "models",
            "--tracking-uri",
            base,
            "digest",
            NAME,
            "1",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert shown.stdout.strip() == client.get_model_version_digest(NAME, "1")

    # Attack 1: replace MLmodel and the model file of registered version 2 in the store.
    v2_files = client.get_model_version_download_uri(NAME, "2").removeprefix("mlflow-artifacts:/")
    _upload(base, v2_files, _pickled_model(marker))
    with pytest.raises(InvalidParameter, match="do not match the digest recorded"):
        registry.pyfunc.load_model(f"models:/{NAME}/2")

    # Attack 2: register a version whose MLmodel has no hashes and whose model is pickled.
    evil_run = client.create_run(run.info.experiment_id)
    run_files = evil_run.info.artifact_uri.removeprefix("mlflow-artifacts:/")
    _upload(base, f"{run_files}/evil", _pickled_model(marker))
    evil = client.create_model_version(NAME, f"runs:/{evil_run.info.run_id}/evil")
    assert evil.version == "3"

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    args = [
        sys.executable, "-m", "registry.cli", "serve", f"models:/{NAME}/Production",
        "--tracking-uri", base, "--port", str(port), "--workers", "1",
    ]  # fmt: skip
    expected = trusted.predict(X.head(2)).tolist()
    env = {"SERVING_POLL_INTERVAL": "0.5"}
    with process(args, f"{url}/ping", tmp_path / "serve.log", env=env):
        _answered_by_trusted(url, expected)

        client.transition_model_version_stage(NAME, "2", "Production", True)
        health = _wait_for_failure(url, "2")
        assert "do not match the digest recorded" in health["load_error"]
        assert health["model_version"] == "1"
        _answered_by_trusted(url, expected)

        client.transition_model_version_stage(NAME, "3", "Production", True)
        health = _wait_for_failure(url, "3")
        assert "SERVING_ALLOW_PICKLE=true" in health["load_error"]
        assert "cloudpickle" in health["load_error"]
        assert health["model_version"] == "1"
        _answered_by_trusted(url, expected)
    assert not marker.exists(), "the attacker's pickle ran"
