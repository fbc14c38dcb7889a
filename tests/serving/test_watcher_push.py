"""The watcher follows through the registry's event stream, and polls when it cannot."""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

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
from tests.servers import registry_server

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


def test_a_registry_with_no_wait_to_spare_makes_the_watcher_warn_and_poll(
    tracking: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    database = Path(tracking.removeprefix("sqlite:///"))
    with registry_server(
        tmp_path,
        database_url=tracking,
        workers=1,
        artifact_root=str(database.parent / "mlartifacts"),
        extra_env={"REGISTRY_EVENTS_MAX_WAITERS": "0"},
    ) as base:
        client = Client(base)
        client.transition_model_version_stage("m", "1", "Production")
        config = ServingConfig(
            model_uri="models:/m/Production", tracking_uri=base, poll_interval=0.05
        )
        watcher = Watcher(config, ModelSlot())
        watcher.check()
        with caplog.at_level(logging.DEBUG, logger="serving.watcher"):
            watcher.wait_for_change()  # takes the stream's cursor
            watcher.wait_for_change()  # the long-poll is refused: falls back to polling
            watcher.wait_for_change()  # within the backoff: polls without trying the stream
        warnings = [
            r.getMessage()
            for r in caplog.records
            if r.levelno == logging.WARNING and "event stream" in r.getMessage()
        ]
        assert len(warnings) == 1
        assert "polling every 0.05s" in warnings[0]
        assert "retry later" in warnings[0]
        # following goes on by polling: the next check swaps in the promoted version
        client.transition_model_version_stage(
            "m", "2", "Production", archive_existing_versions=True
        )
        watcher.check()
        assert watcher.slot.current is not None and watcher.slot.current.version == "2"


def test_the_watcher_follows_a_stream_whose_database_went_back(tracking: str) -> None:
    client = Client(tracking)
    config = ServingConfig(
        model_uri="models:/m/Production", tracking_uri=tracking, poll_interval=60
    )
    watcher = Watcher(config, ModelSlot())
    watcher.wait_for_change()  # the first call only takes the stream's cursor
    backup = client.get_events().next_after
    for version in ("1", "2"):
        client.transition_model_version_stage("m", version, "Production")
    watcher.wait_for_change()  # answers with both promotions: the cursor is past them
    # the registry's database is restored to before the promotions, then changes again
    with sqlite3.connect(tracking.removeprefix("sqlite:///")) as database:
        database.execute("DELETE FROM registry_events WHERE id > ?", (backup,))
        database.execute("UPDATE registry_event_sequence SET last_id = ?", (backup,))
    database.close()
    client.transition_model_version_stage("m", "1", "Archived")
    woke = threading.Event()

    def follow() -> None:
        watcher.wait_for_change()  # answered at once with the stream's newest id
        watcher.wait_for_change()  # waits from there
        woke.set()

    thread = threading.Thread(target=follow, daemon=True)
    thread.start()
    time.sleep(0.3)  # let the second long-poll start waiting
    client.transition_model_version_stage("m", "2", "Archived")
    # an event with the id the watcher had already seen wakes it: it follows the new stream
    assert woke.wait(WAIT_SECONDS / 2)
