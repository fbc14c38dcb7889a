"""The watcher against a real registry (the embedded SQLite one, in-process)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression

import registry as mlflow
import registry.sklearn
from registry.client import Client
from registry.client.tracking_uri import reset_tracking_uri
from registry.entities import ModelInfo
from serving.config import ServingConfig
from serving.loader import ModelSource, is_followable
from serving.slot import ModelSlot
from serving.watcher import Watcher

X = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [0.0, 1.0, 5.0]})


@pytest.fixture
def logged(sqlite_url: str) -> Iterator[tuple[str, ModelInfo]]:
    mlflow.set_tracking_uri(sqlite_url)
    with mlflow.start_run():
        info = registry.sklearn.log_model(LinearRegression().fit(X, X.a), name="model")
    for _ in range(3):
        mlflow.register_model(info.model_uri, "m")
    yield sqlite_url, info
    reset_tracking_uri()


@pytest.fixture
def tracking(logged: tuple[str, ModelInfo]) -> str:
    return logged[0]


def test_run_logged_model_and_pinned_version_uris_load(logged: tuple[str, ModelInfo]) -> None:
    tracking_uri, info = logged
    assert info.run_id is not None
    by_run = ModelSource(f"runs:/{info.run_id}/model", tracking_uri).load()
    assert (by_run.version, by_run.run_id) == (info.run_id, info.run_id)
    by_id = ModelSource(f"models:/{info.model_id}", tracking_uri).load()
    assert by_id.model_id == info.model_id
    pinned = ModelSource("models:/m/2", tracking_uri).load()
    assert (pinned.name, pinned.version) == ("m", "2")
    for loaded in (by_run, by_id, pinned):
        assert loaded.predictor.predict(X).tolist() == pytest.approx(X.a.tolist())


def watcher(uri: str, tracking_uri: str) -> Watcher:
    config = ServingConfig(model_uri=uri, tracking_uri=tracking_uri)
    return Watcher(config, ModelSlot())


def test_a_stage_is_followed_and_a_missing_target_keeps_the_model(tracking: str) -> None:
    client = Client(tracking)
    client.transition_model_version_stage("m", "1", "Production")
    w = watcher("models:/m/Production", tracking)
    assert w.follows
    w.check()
    first = w.slot.current
    assert first is not None
    assert (first.name, first.version) == ("m", "1")
    w.check()
    assert w.slot.current is first  # unchanged target: no reload
    client.transition_model_version_stage("m", "2", "Production", archive_existing_versions=True)
    w.check()
    assert w.slot.current is not None
    assert w.slot.current.version == "2"
    client.transition_model_version_stage("m", "2", "Archived")
    w.check()  # nothing in Production now: keep serving version 2
    assert w.slot.current.version == "2"


def test_an_alias_is_followed(tracking: str) -> None:
    client = Client(tracking)
    client.set_registered_model_alias("m", "champion", "3")
    w = watcher("models:/m@champion", tracking)
    w.check()
    assert w.slot.current is not None
    assert w.slot.current.version == "3"
    client.set_registered_model_alias("m", "champion", "1")
    w.check()
    assert w.slot.current.version == "1"
    assert w.slot.current.predictor.predict(X).tolist() == pytest.approx(X.a.tolist())


def test_a_missing_model_leaves_the_worker_not_ready_with_the_reason(tracking: str) -> None:
    w = watcher("models:/nope/Production", tracking)
    w.check()
    assert w.slot.current is None
    assert "nope" in w.slot.load_error


@pytest.mark.parametrize(
    ("uri", "follows"),
    [
        ("models:/m/Production", True),
        ("models:/m/Staging", True),
        ("models:/m/latest", True),
        ("models:/m@champion", True),
        ("models:/m/3", False),
        ("models:/m-0123abcd", False),
        ("runs:/abc/model", False),
        ("/tmp/model", False),
    ],
)
def test_only_stages_and_aliases_are_followed(uri: str, follows: bool) -> None:
    assert is_followable(uri) is follows


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("s3://bucket/model", "expected runs:/"),
        ("/no/such/dir", "no such model directory"),
    ],
)
def test_unservable_uris_are_invalid_parameters(uri: str, message: str) -> None:
    from registry.errors import InvalidParameter

    with pytest.raises(InvalidParameter, match=message):
        ModelSource(uri, "").resolve()


def test_a_directory_without_mlmodel_is_refused(tmp_path: Path) -> None:
    from registry.errors import InvalidParameter

    with pytest.raises(InvalidParameter, match="no MLmodel"):
        ModelSource(str(tmp_path), "").load()
