"""Following ``models:/name/Production`` under load: promotions swap with no failed request."""

from __future__ import annotations

import re
import sys
import threading
import time
from pathlib import Path
from typing import Any

import cloudpickle
import httpx
import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression

import registry as mlflow
import registry.pyfunc
import registry.sklearn
from registry.client import Client
from registry.client.tracking_uri import reset_tracking_uri
from registry.models.pyfunc import PythonModel
from tests.conftest import free_port
from tests.servers import process, registry_server

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]

NAME = "follow"
POLL_INTERVAL = 2.0
X = pd.DataFrame(np.arange(12.0).reshape(4, 3), columns=["a", "b", "c"])
BODY = {"dataframe_split": X.head(2).to_dict(orient="split", index=False)}


class Broken(PythonModel):
    """A model whose loading fails, as a bad new version's would."""

    def load_context(self, context: Any) -> None:
        raise RuntimeError("broken on purpose")

    def predict(self, context: Any, model_input: Any, params: dict[str, Any] | None = None) -> Any:
        return [0.0] * len(model_input)


class Load:
    """Two threads posting predictions on keep-alive connections, recording every answer."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.answers: list[tuple[float, int, str]] = []
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._run, daemon=True) for _ in range(2)]

    def _run(self) -> None:
        with httpx.Client(base_url=self.url, timeout=10) as client:
            deadline = time.monotonic() + 120
            while not self.stop.is_set() and time.monotonic() < deadline:
                response = client.post("/invocations", json=BODY)
                version = response.headers.get("X-Model-Version", "")
                self.answers.append((time.monotonic(), response.status_code, version))

    def __enter__(self) -> Load:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=15)

    def wait_for_only(self, version: str, since: float, timeout: float) -> tuple[float, float]:
        """Seconds from ``since`` to the first answer by ``version`` and to the last by another."""
        deadline = since + timeout
        while time.monotonic() < deadline:
            after = [a for a in self.answers if a[0] >= since]
            firsts = [t for t, _, v in after if v == version]
            others = [t for t, _, v in after if v != version]
            # Settled once 20 answers in a row (from both workers) came from the new version.
            if len(after) >= 20 and all(v == version for _, _, v in after[-20:]):
                last_other = max(others, default=firsts[0])
                return firsts[0] - since, last_other - since
            time.sleep(0.05)
        raise AssertionError(f"version {version} did not take over within {timeout}s")


def test_promotions_under_load_swap_without_a_failed_request(tmp_path: Path) -> None:
    with registry_server(tmp_path, workers=1) as base:
        mlflow.set_tracking_uri(base)
        try:
            _follow(base, tmp_path)
        finally:
            reset_tracking_uri()


def _follow(base: str, tmp_path: Path) -> None:
    client = Client(base)
    with mlflow.start_run():
        info = registry.sklearn.log_model(LinearRegression().fit(X, X.a), name="model")
        cloudpickle.register_pickle_by_value(sys.modules[__name__])
        broken = registry.pyfunc.log_model(name="broken", python_model=Broken())
    for _ in range(4):
        mlflow.register_model(info.model_uri, NAME)
    mlflow.register_model(broken.model_uri, NAME)
    client.transition_model_version_stage(NAME, "1", "Production")

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    args = [
        sys.executable,
        "-m",
        "registry.cli",
        "serve",
        f"models:/{NAME}/Production",
        "--tracking-uri",
        base,
        "--port",
        str(port),
        "--workers",
        "2",
    ]
    # The followed versions are pyfunc models (cloudpickle): serving needs the operator's opt-in.
    env = {"SERVING_POLL_INTERVAL": str(POLL_INTERVAL), "SERVING_ALLOW_PICKLE": "true"}
    with process(args, f"{url}/ping", tmp_path / "serve.log", env=env), Load(url) as load:
        time.sleep(1.0)
        for version in ("2", "3", "4"):
            promoted = time.monotonic()
            client.transition_model_version_stage(NAME, version, "Production", True)
            first, settled = load.wait_for_only(version, promoted, POLL_INTERVAL + 8.0)
            print(f"version {version}: first answer {first:.2f}s, all workers {settled:.2f}s")
            assert settled <= POLL_INTERVAL + 3.0

        client.transition_model_version_stage(NAME, "5", "Production", True)
        time.sleep(POLL_INTERVAL * 2 + 2.0)
        health = httpx.get(f"{url}/health").json()
        metrics = httpx.get(f"{url}/metrics").text

    assert load.answers, "the load generator got no answers"
    statuses = {status for _, status, _ in load.answers}
    assert statuses == {200}
    assert {v for _, _, v in load.answers} <= {"1", "2", "3", "4"}
    assert [v for _, _, v in load.answers[-10:]] == ["4"] * 10
    assert health["model_version"] == "4"
    assert health["failed_version"] == "5"
    assert "broken on purpose" in health["load_error"]
    assert re.search(r"^modelyard_serving_last_load_failed 1\.0$", metrics, re.M)
    assert re.search(r"^modelyard_serving_model_load_failures_total [12]\.0$", metrics, re.M)
    print(f"{len(load.answers)} answers, all 200")
