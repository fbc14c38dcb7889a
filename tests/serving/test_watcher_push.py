"""The watcher follows through the registry's event stream, and polls when it cannot."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator

import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression

import registry as mlflow
import registry.sklearn
from registry.client import Client
from registry.client.tracking_uri import reset_tracking_uri
from serving.config import ServingConfig
from serving.slot import ModelSlot
from serving.watcher import WAIT_SECONDS, Watcher
from tests.conftest import free_port

X = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [0.0, 1.0, 5.0]})


@pytest.fixture
def tracking(sqlite_url: str) -> Iterator[str]:
    mlflow.set_tracking_uri(sqlite_url)
    with mlflow.start_run():
        info = registry.sklearn.log_model(LinearRegression().fit(X, X.a), name="model")
    for _ in range(2):
        mlflow.register_model(info.model_uri, "m")
    yield sqlite_url
    reset_tracking_uri()


def test_a_promotion_wakes_the_watcher_before_its_long_poll_runs_out(tracking: str) -> None:
    client = Client(tracking)
    client.transition_model_version_stage("m", "1", "Production")
    config = ServingConfig(
        model_uri="models:/m/Production", tracking_uri=tracking, poll_interval=60
    )
    watcher = Watcher(config, ModelSlot())
    watcher.check()
    watcher.wait_for_change()  # the first call only takes the stream's cursor
    woke = threading.Event()

    def follow() -> None:
        watcher.wait_for_change()
        woke.set()

    thread = threading.Thread(target=follow, daemon=True)
    thread.start()
    time.sleep(0.3)  # let the long-poll start waiting
    assert not woke.is_set()
    client.transition_model_version_stage("m", "2", "Production", archive_existing_versions=True)
    # well before the long-poll's own end (and the minute-long poll interval): only the event
    assert woke.wait(WAIT_SECONDS / 2)
    watcher.check()
    assert watcher.slot.current is not None and watcher.slot.current.version == "2"


def test_without_a_reachable_stream_the_watcher_polls_and_backs_off(
    caplog: pytest.LogCaptureFixture,
) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}"
    config = ServingConfig(
        model_uri="models:/m/Production", tracking_uri=nowhere, poll_interval=0.05
    )
    watcher = Watcher(config, ModelSlot())
    with caplog.at_level(logging.WARNING, logger="serving.watcher"):
        watcher.wait_for_change()
        watcher.wait_for_change()  # within the backoff: polls without trying the stream
    warnings = [r.getMessage() for r in caplog.records if "event stream" in r.getMessage()]
    assert len(warnings) == 1
    assert "polling every 0.05s" in warnings[0]
