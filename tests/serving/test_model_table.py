"""The model table across workers (two ModelTables over one state file stand for two workers):
loads beside the served model, loads outside the locks, the sync thread, download directories,
retired slots (real models, real files, a real registry)."""

from __future__ import annotations

import gc
import logging
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from sklearn.linear_model import LinearRegression

import registry as mlflow
import registry.sklearn
from registry.client import Client
from registry.client.tracking_uri import reset_tracking_uri
from registry.errors import InvalidParameter, InvalidState, ModelNotReady
from registry.models import sklearn as sklearn_flavor
from serving import models
from serving.config import ServingConfig
from serving.loader import ModelSource, registered_name
from serving.models import ModelTable, _SharedState
from serving.slot import ModelSlot
from serving.watcher import Watcher
from tests.servers import registry_server
from tests.serving.conftest import COLUMNS, TARGET, TRAIN

ROWS = np.asarray([[1.0, 2.0, 3.0]])
WAIT = 60.0  # a bound on waiting for a background thread, never a measurement


@pytest.fixture(scope="module")
def tenfold_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tenfold") / "model"
    model = LinearRegression().fit(TRAIN, TARGET * 10)
    sklearn_flavor.save_model(model, path, input_example=TRAIN.head(2))
    return path


def predict(table: ModelTable, name: str) -> float:
    frame = pd.DataFrame(ROWS, columns=COLUMNS)
    return float(np.asarray(table.model(name).predictor.predict(frame))[0])


def workers(tmp_path: Path, **settings: object) -> tuple[ModelTable, ModelTable]:
    config = ServingConfig(poll_interval=3600, grpc_port=0, **settings)  # type: ignore[arg-type]
    state = str(tmp_path / "models.json")
    first = ModelTable.from_config(config, load=True, state_file=state)
    return first, ModelTable.from_config(config, load=True, state_file=state)


def until(condition: Callable[[], bool]) -> None:
    """Wait for a background thread to make ``condition`` true (bounded, for a broken build)."""
    done = threading.Event()
    for _ in range(int(WAIT / 0.02)):
        if condition():
            return
        done.wait(0.02)
    raise AssertionError("the background work did not happen")


def copy_of(model_dir: Path, tmp_path: Path, name: str) -> Path:
    return Path(shutil.copytree(model_dir, tmp_path / name))


def test_another_worker_loads_a_new_uri_beside_the_model_it_serves(
    model_dirs: dict[str, Path], tenfold_dir: Path, tmp_path: Path
) -> None:
    a, b = workers(tmp_path, models=f"one={model_dirs['signature']}")
    one = predict(b, "one")
    a.load("one", str(tenfold_dir))
    b.sync()
    # Worker B answers with the old model while the new one loads, and stays ready.
    assert b.ready()
    assert predict(b, "one") in (pytest.approx(one), pytest.approx(10 * one))
    until(lambda: predict(b, "one") == pytest.approx(10 * one))
    assert b.ready()


def test_a_load_that_fails_in_another_worker_leaves_it_serving_and_ready(
    model_dirs: dict[str, Path], tenfold_dir: Path, tmp_path: Path
) -> None:
    a, b = workers(tmp_path, models=f"one={model_dirs['signature']}")
    one = predict(b, "one")
    gone = copy_of(tenfold_dir, tmp_path, "gone")
    a.load("one", str(gone))
    a.load("extra", str(gone))
    shutil.rmtree(gone)  # loads in A, not in B
    b.sync()
    assert b.ready()  # a new name counts once loaded; a new URI once swapped in
    assert predict(b, "one") == pytest.approx(one)
    with pytest.raises(ModelNotReady):
        b.model("extra")
    until(lambda: "did not load yet" in b.index()[0]["reason"])
    rows = {r["name"]: r for r in b.index()}
    assert rows["one"]["state"] == "READY" and str(gone) in rows["one"]["reason"]
    assert rows["extra"]["state"] == "LOADING"
    assert b.ready() and predict(b, "one") == pytest.approx(one)


def test_a_load_runs_outside_the_locks_and_one_per_model_at_a_time(
    model_dirs: dict[str, Path], tenfold_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(models, "LOAD_WAIT_SECONDS", 0.2, raising=False)
    a, b = workers(tmp_path, models=f"one={model_dirs['signature']}")
    slow = copy_of(tenfold_dir, tmp_path, "slow")
    (slow / "model.skops").unlink()
    os.mkfifo(slow / "model.skops")  # the load blocks opening it until we open it to write
    mlmodel = yaml.safe_load((slow / "MLmodel").read_text())
    del mlmodel["file_hashes"]  # hashing would read the FIFO too
    (slow / "MLmodel").write_text(yaml.safe_dump(mlmodel))
    results: dict[str, object] = {}

    def run(key: str, call: Callable[[], object]) -> threading.Thread:
        def target() -> None:
            try:
                results[key] = call()
            except Exception as err:
                results[key] = err

        thread = threading.Thread(target=target, daemon=True)
        thread.start()
        return thread

    slow_load = run("slow", lambda: a.load("one", str(slow)))
    until(_a_thread_waits_for_a_fifo_writer)
    # Meanwhile this worker's requests, its sync and the other worker's changes go on ...
    assert predict(a, "one") == pytest.approx(predict(b, "one"))
    other = run("other", lambda: b.load("ten", str(tenfold_dir)))
    other.join(WAIT)
    assert not isinstance(results.get("other"), BaseException) and "other" in results
    a.sync()
    assert "ten" in a.names()
    # ... and a second load of the same model answers 409 rather than wait for ever.
    again = run("again", lambda: a.load("one", str(tenfold_dir)))
    again.join(WAIT)
    assert isinstance(results.get("again"), InvalidState)
    assert "being loaded already" in str(results["again"])
    os.close(os.open(slow / "model.skops", os.O_WRONLY))  # the load reads nothing: it fails
    slow_load.join(WAIT)
    assert isinstance(results.get("slow"), InvalidParameter)
    assert predict(a, "one") == pytest.approx(predict(b, "one"))  # it changed nothing
    a.load("one", str(tenfold_dir))  # the model is free to load again
    assert predict(a, "one") == pytest.approx(10 * predict(b, "one"))


def _a_thread_waits_for_a_fifo_writer() -> bool:
    """True once a thread of this process is blocked opening a FIFO (the load waits)."""
    for task in Path("/proc/self/task").iterdir():
        try:
            if (task / "wchan").read_text() == "wait_for_partner":
                return True
        except OSError:
            continue
    return False


def test_poll_interval_must_be_positive() -> None:
    with pytest.raises(ValueError, match="SERVING_POLL_INTERVAL"):
        ServingConfig(poll_interval=0)


def test_the_sync_thread_survives_a_failing_socket(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    shared = _SharedState(str(tmp_path / "models.json"), 0.05)
    calls: list[int] = []
    shared.start(lambda: calls.append(1))
    assert shared._socket is not None
    with caplog.at_level(logging.WARNING, logger="serving.models"):
        shared._socket.close()  # its next recv fails with OSError
        until(lambda: "wake-up socket failed" in caplog.text)
        seen = len(calls)
        until(lambda: len(calls) > seen + 2)  # the thread goes on, polling
    assert any(t.name == "model-table" and t.is_alive() for t in threading.enumerate())


@pytest.fixture
def registered(sqlite_url: str) -> Iterator[str]:
    mlflow.set_tracking_uri(sqlite_url)
    with mlflow.start_run():
        registry.sklearn.log_model(
            LinearRegression().fit(TRAIN, TARGET),
            name="model",
            input_example=TRAIN.head(2),
            registered_model_name="lin",
        )
        registry.sklearn.log_model(
            LinearRegression().fit(TRAIN, TARGET),
            name="pickled",
            serialization_format="cloudpickle",
            registered_model_name="pickled",
        )
    yield sqlite_url
    reset_tracking_uri()


def downloads(root: Path) -> list[str]:
    return sorted(p.name for p in root.glob("model-*"))


def test_a_download_is_removed_once_its_model_is_swapped_out_or_refused(
    model_dirs: dict[str, Path],
    registered: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root = tmp_path / "tmp"
    root.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(root))
    config = ServingConfig(model_uri=str(model_dirs["signature"]), tracking_uri=registered)
    table = ModelTable.from_config(config, load=True)
    with pytest.raises(InvalidParameter, match="did not load"):
        table.load("pickled", "models:/pickled/1")  # refused: it needs pickle
    assert downloads(root) == []
    table.load("extra", "models:/lin/1")
    assert len(downloads(root)) == 1
    taken = table.model("extra")  # a request holding the model keeps its files
    table.unload("extra")
    gc.collect()
    assert len(downloads(root)) == 1
    del taken
    gc.collect()
    assert downloads(root) == []
    # A worker's copy of a model its parent downloaded is not the worker's to remove.
    loaded = ModelSource("models:/lin/1", registered).load()
    pid = os.fork()
    if pid == 0:
        del loaded
        gc.collect()
        os._exit(0)
    os.waitpid(pid, 0)
    assert len(downloads(root)) == 1
    del loaded
    gc.collect()
    assert downloads(root) == []


def test_a_retired_slot_takes_no_model_and_a_stopped_watcher_closes_its_clients(
    model_dirs: dict[str, Path], registered: str
) -> None:
    model = ModelSource(str(model_dirs["signature"]), "").load()
    slot = ModelSlot(served_as="x")
    slot.retire()
    assert slot.swap(model) is False
    assert slot.current is None
    config = ServingConfig(tracking_uri=registered)
    watcher = Watcher(config, ModelSlot(served_as="lin"), "models:/lin/1")
    watcher.start()
    assert watcher._thread is not None
    watcher._thread.join(WAIT)
    assert watcher.slot.current is not None
    assert watcher.source._client is None  # closed as the thread ended


def test_a_request_that_took_a_replaced_entry_gets_the_new_model(
    model_dirs: dict[str, Path], tenfold_dir: Path, tmp_path: Path
) -> None:
    table, _ = workers(tmp_path, models=f"one={model_dirs['signature']}")
    one = predict(table, "one")
    stale = table.get("one")
    assert stale is not None
    table.load("one", str(tenfold_dir))
    taken = table.take(stale)
    frame = pd.DataFrame(ROWS, columns=COLUMNS)
    assert float(np.asarray(taken.predictor.predict(frame))[0]) == pytest.approx(10 * one)


def test_a_repository_uri_may_not_name_files_on_the_serving_host(
    model_dirs: dict[str, Path], tmp_path: Path
) -> None:
    """Where the registry lets a client give an experiment a plain path as its artifact location
    (the operator allowed the prefix; an MLflow server does by default), a logged model or run
    there resolves to files on the serving host: refused for a URI from the network."""
    allowed = {"REGISTRY_ALLOWED_ARTIFACT_LOCATIONS": str(tmp_path)}
    with registry_server(tmp_path, extra_env=allowed) as base:
        client = Client(base)
        experiment = client.create_experiment("on-a-path", str(tmp_path / "elsewhere"))
        logged = client.create_logged_model(experiment, "m")
        assert "://" not in logged.artifact_uri  # a plain path
        shutil.copytree(model_dirs["signature"], logged.artifact_uri, dirs_exist_ok=True)
        uri = f"models:/{logged.model_id}"
        assert ModelSource(uri, base).load().model_id == logged.model_id  # an operator's URI
        with pytest.raises(InvalidParameter, match="path on the serving host"):
            ModelSource(uri, base, remote_only=True).load()
        config = ServingConfig(model_uri=str(model_dirs["signature"]), tracking_uri=base)
        table = ModelTable.from_config(config, load=True)
        with pytest.raises(InvalidParameter, match="path on the serving host"):
            table.load("other", uri)


def test_one_function_reads_a_registered_name() -> None:
    assert registered_name("models:/m-0123abc") == ""
    assert registered_name("models:/lin@champion") == "lin"
    assert registered_name("models:/lin/Production") == "lin"
    assert registered_name("runs:/abc/model") == ""
    assert Watcher(ServingConfig(), ModelSlot(), "models:/m-0123abc").model_name == ""
