"""Following ``models:/name/Production`` under load: promotions swap with no failed request,
and a version that fails to load is never served, by polling and by the event stream (push).

Which gunicorn worker answers a request is up to scheduling (keep-alive connections may all
land on one worker), so the test never infers a worker's version from the answers: it waits
on the serving process's metrics, where each live worker reports the version it serves
(``modelyard_serving_model_version_info``, the max over live workers) and each failed load
counts once. Only then does it look at the answers, to requests sent after that point.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import cloudpickle
import httpx
import numpy as np
import pandas as pd
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sklearn.linear_model import LinearRegression

import registry as mlflow
import registry.pyfunc
import registry.sklearn
from registry.client import Client
from registry.client.tracking_uri import reset_tracking_uri
from registry.models.pyfunc import PythonModel
from tests.conftest import free_port
from tests.servers import process, registry_server

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

WORKERS = 2
POLL_INTERVAL = 1.0
DEADLINE = 60.0
"""Generous, for a loaded machine: a promotion takes a poll interval (or well under a second
by push) to reach every worker when the machine is idle."""
ANSWERS = 20
"""Answers to requests sent after every worker moved, all of which must come from the new
version."""
X = pd.DataFrame(np.arange(12.0).reshape(4, 3), columns=["a", "b", "c"])
BODY = {"dataframe_split": X.head(2).to_dict(orient="split", index=False)}


class Broken(PythonModel):
    """A model whose loading fails, as a bad new version's would."""

    def load_context(self, context: Any) -> None:
        raise RuntimeError("broken on purpose")

    def predict(self, context: Any, model_input: Any, params: dict[str, Any] | None = None) -> Any:
        return [0.0] * len(model_input)


class Load:
    """Two threads posting predictions on keep-alive connections, recording every answer as
    (when its request was sent, status, X-Model-Version)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.answers: list[tuple[float, int, str]] = []
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._run, daemon=True) for _ in range(2)]

    def _run(self) -> None:
        with httpx.Client(base_url=self.url, timeout=30) as client:
            while not self.stop.is_set():
                sent = time.monotonic()
                response = client.post("/invocations", json=BODY)
                version = response.headers.get("X-Model-Version", "")
                self.answers.append((sent, response.status_code, version))

    def __enter__(self) -> Load:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=30)

    def versions_sent_after(self, since: float) -> list[str]:
        """The versions that answered requests sent at or after ``since``."""
        return [v for sent, _, v in list(self.answers) if sent >= since]


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One registry server for both follow modes; each mode follows its own model.

    Push runs first: the registry's stop waits for long-polls still outstanding from the push
    run, which run out while the poll run goes on."""
    with registry_server(tmp_path_factory.mktemp("registry"), workers=1) as url:
        mlflow.set_tracking_uri(url)
        try:
            yield url
        finally:
            reset_tracking_uri()


@pytest.mark.parametrize("follow", ["push", "poll"])
def test_promotions_under_load_swap_without_a_failed_request(
    base: str, follow: str, tmp_path: Path
) -> None:
    name = f"follow-{follow}"
    client = Client(base)
    with mlflow.start_run():
        info = registry.sklearn.log_model(LinearRegression().fit(X, X.a), name="model")
        cloudpickle.register_pickle_by_value(sys.modules[__name__])
        broken = registry.pyfunc.log_model(name="broken", python_model=Broken())
    for _ in range(4):
        mlflow.register_model(info.model_uri, name)
    mlflow.register_model(broken.model_uri, name)
    client.transition_model_version_stage(name, "1", "Production")

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    args = [sys.executable, "-m", "registry.cli", "serve", f"models:/{name}/Production"]
    args += ["--tracking-uri", base, "--port", str(port), "--workers", str(WORKERS)]
    # The followed versions are pyfunc models (cloudpickle): serving needs the operator's opt-in.
    env = {
        "SERVING_FOLLOW": follow,
        "SERVING_POLL_INTERVAL": str(POLL_INTERVAL),
        "SERVING_ALLOW_PICKLE": "true",
    }
    with process(args, f"{url}/ping", tmp_path / "serve.log", env=env), Load(url) as load:
        for version in ("1", "2", "3", "4"):
            if version != "1":
                client.transition_model_version_stage(name, version, "Production", True)
            _wait_until_every_worker_serves(url, version)
            since = time.monotonic()
            _wait_for_answers(load, since)
            assert set(load.versions_sent_after(since)) == {version}

        # Every worker serves 4, so each tries 5 exactly once, fails, and keeps serving 4.
        client.transition_model_version_stage(name, "5", "Production", True)
        _wait(
            lambda: _sample(url, "modelyard_serving_model_load_failures_total") == WORKERS,
            "every worker failing to load 5",
        )
        since = time.monotonic()
        _wait_for_answers(load, since)
        health = httpx.get(f"{url}/health").json()
        served = _served(url)
        last_load_failed = _sample(url, "modelyard_serving_last_load_failed")

    assert load.answers, "the load generator got no answers"
    assert {status for _, status, _ in load.answers} == {200}
    assert {v for _, _, v in load.answers} <= {"1", "2", "3", "4"}
    assert set(load.versions_sent_after(since)) == {"4"}
    assert served == {"4"}
    assert health["model_version"] == "4"
    assert health["failed_version"] == "5"
    assert "broken on purpose" in health["load_error"]
    assert last_load_failed == 1.0
    print(f"{follow}: {len(load.answers)} answers, all 200")


def _wait_until_every_worker_serves(url: str, version: str) -> None:
    _wait(lambda: _served(url) == {version}, f"every worker serving {version}")


def _wait_for_answers(load: Load, since: float) -> None:
    _wait(lambda: len(load.versions_sent_after(since)) >= ANSWERS, f"{ANSWERS} answers")


def _wait(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"no {what} within {DEADLINE}s")
        time.sleep(0.1)


def _samples(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of the serving process's /metrics (all workers), by name and labels."""
    text = httpx.get(f"{url}/metrics", timeout=30).text
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def _sample(url: str, name: str) -> float:
    """The sample's value summed over its labels (the ``model`` label: one model is served)."""
    return sum(value for (n, _), value in _samples(url).items() if n == name)


def _served(url: str) -> set[str]:
    """The versions some live worker serves (each worker's gauge is 1 for its version only)."""
    return {
        dict(labels)["version"]
        for (name, labels), value in _samples(url).items()
        if name == "modelyard_serving_model_version_info" and value == 1.0
    }
