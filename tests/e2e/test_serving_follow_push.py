"""``modelyard serve`` follows a promotion through the registry's event stream (push).

Polling is set to once a minute, so a new version answering within the deadline below can only
have come through the long-poll; the load generator's every answer must be a 200.
"""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression

import registry as mlflow
import registry.sklearn
from registry.client import Client
from registry.client.tracking_uri import reset_tracking_uri
from tests.conftest import free_port
from tests.servers import process, registry_server

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]

NAME = "pushed"
POLL_INTERVAL = 60.0
DEADLINE = 15.0
"""Generous: push takes well under a second. Shorter than the long-poll's own wait (25 s, after
which the watcher checks anyway) and than the poll interval, so only an event can explain it."""
X = pd.DataFrame(np.arange(12.0).reshape(4, 3), columns=["a", "b", "c"])
BODY = {"dataframe_split": X.head(2).to_dict(orient="split", index=False)}


class Load:
    """Two threads posting predictions on keep-alive connections, recording every answer."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.answers: list[tuple[int, str]] = []
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._run, daemon=True) for _ in range(2)]

    def _run(self) -> None:
        with httpx.Client(base_url=self.url, timeout=10) as client:
            while not self.stop.is_set():
                response = client.post("/invocations", json=BODY)
                self.answers.append((response.status_code, response.headers["X-Model-Version"]))

    def __enter__(self) -> Load:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=15)

    def wait_for(self, version: str, since: int) -> None:
        """Return once 20 answers in a row, after answer ``since``, came from ``version``."""
        deadline = time.monotonic() + DEADLINE
        while time.monotonic() < deadline:
            recent = self.answers[since:]
            if len(recent) >= 20 and all(v == version for _, v in recent[-20:]):
                return
            time.sleep(0.05)
        raise AssertionError(f"version {version} did not take over within {DEADLINE}s")


def test_a_promotion_is_served_through_the_event_stream_without_a_failed_request(
    tmp_path: Path,
) -> None:
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
    for _ in range(3):
        mlflow.register_model(info.model_uri, NAME)
    client.transition_model_version_stage(NAME, "1", "Production")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    args = [sys.executable, "-m", "registry.cli", "serve", f"models:/{NAME}/Production"]
    args += ["--tracking-uri", base, "--port", str(port), "--workers", "2"]
    env = {"SERVING_POLL_INTERVAL": str(POLL_INTERVAL), "SERVING_ALLOW_PICKLE": "true"}
    with process(args, f"{url}/ping", tmp_path / "serve.log", env=env), Load(url) as load:
        load.wait_for("1", 0)
        for version in ("2", "3"):
            since = len(load.answers)
            client.transition_model_version_stage(NAME, version, "Production", True)
            load.wait_for(version, since)
        health = httpx.get(f"{url}/health").json()

    assert {status for status, _ in load.answers} == {200}
    assert health["model_version"] == "3"
