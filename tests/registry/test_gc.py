"""``modelyard gc``: purges what was deleted, keeps what a model version uses, is idempotent."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from registry.artifacts.local import LocalArtifactStore
from registry.config import Config
from registry.services.gc import collect_garbage
from registry.store import db, open_database
from registry.store.models import (
    DELETED,
    Experiment,
    LoggedModel,
    Metric,
    MetricHistory,
    ModelVersion,
    Param,
    RegisteredModel,
    Run,
)

DAY_MS = 86_400_000


@pytest.fixture
def store(sqlite_url: str, artifact_root: Path) -> Iterator[tuple[str, Path]]:
    database = open_database(sqlite_url)
    yield sqlite_url, artifact_root
    database.close()


def _experiment(name: str, deleted_ms_ago: int | None = None) -> Experiment:
    now = int(time.time() * 1000)
    exp = Experiment.create(
        name=name, artifact_location="x", creation_time=now, last_update_time=now
    )
    if deleted_ms_ago is not None:
        exp.lifecycle_stage, exp.deleted_time = DELETED, now - deleted_ms_ago
        exp.save()
    return exp


def _run(exp: Experiment, root: Path, deleted_ms_ago: int | None = None) -> str:
    run_id = uuid.uuid4().hex
    now = int(time.time() * 1000)
    Run.create(
        run_uuid=run_id,
        experiment=exp,
        start_time=now,
        artifact_uri="x",
        lifecycle_stage=DELETED if deleted_ms_ago is not None else "active",
        deleted_time=None if deleted_ms_ago is None else now - deleted_ms_ago,
    )
    Param.create(run=run_id, key="alpha", value="0.1")
    Metric.create(run=run_id, key="rmse", value=1.0, timestamp=now, step=0)
    artifact = root / str(exp.experiment_id) / run_id / "artifacts" / "note.txt"
    artifact.parent.mkdir(parents=True)
    artifact.write_text("kept or not")
    return run_id


def _gc(url: str, root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "registry.cli",
            "gc",
            "--backend-store-uri",
            url,
            "--artifacts-destination",
            str(root),
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _exists(run_id: str) -> bool:
    with db.connection_context():
        return Run.select().where(Run.run_uuid == run_id).exists()


def test_gc_removes_old_deletions_with_their_artifacts_and_keeps_the_rest(
    store: tuple[str, Path],
) -> None:
    url, root = store
    with db.connection_context():
        exp = _experiment("e1")
        old = _run(exp, root, deleted_ms_ago=10 * DAY_MS)
        recent = _run(exp, root, deleted_ms_ago=DAY_MS // 2)
        active = _run(exp, root)

    dry = _gc(url, root, "--older-than", "7d", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert f"Would remove run {old}" in dry.stdout
    assert _exists(old) and (root / str(exp.experiment_id) / old).exists()

    result = _gc(url, root, "--older-than", "7d")
    assert result.returncode == 0, result.stderr
    assert "Removed 1 runs" in result.stdout
    assert not _exists(old)
    assert not (root / str(exp.experiment_id) / old).exists()
    with db.connection_context():
        assert not Param.select().where(Param.run == old).exists()
        assert not MetricHistory.select().where(MetricHistory.run == old).exists()
    assert _exists(recent) and _exists(active)
    assert (root / str(exp.experiment_id) / recent / "artifacts" / "note.txt").exists()

    again = _gc(url, root, "--older-than", "7d")
    assert "Removed 0 runs, 0 logged models, 0 experiments." in again.stdout


def test_gc_never_removes_what_a_model_version_uses(store: tuple[str, Path]) -> None:
    url, root = store
    model_id = "m-" + "a" * 32
    with db.connection_context():
        exp = _experiment("gone", deleted_ms_ago=3 * DAY_MS)
        used = _run(exp, root, deleted_ms_ago=3 * DAY_MS)
        unused = _run(exp, root, deleted_ms_ago=3 * DAY_MS)
        now = int(time.time() * 1000)
        LoggedModel.create(
            model_id=model_id,
            experiment=exp,
            name="model",
            source_run_id=used,
            artifact_uri="x",
            creation_timestamp_ms=now,
            last_updated_timestamp_ms=now,
        )
        model = RegisteredModel.create(
            name="keeper", creation_timestamp=now, last_updated_timestamp=now
        )
        ModelVersion.create(
            registered_model=model,
            version=1,
            creation_timestamp=now,
            last_updated_timestamp=now,
            source="models:/" + model_id,
            run_id=used,
            model_id=model_id,
        )

    result = _gc(url, root)
    assert result.returncode == 0, result.stderr
    assert _exists(used)
    assert not _exists(unused)
    assert (root / str(exp.experiment_id) / used / "artifacts" / "note.txt").exists()
    assert "Kept experiment" in result.stdout
    with db.connection_context():
        assert Experiment.select().where(Experiment.name == "gone").exists()
        assert LoggedModel.select().where(LoggedModel.model_id == model_id).exists()


def test_gc_removes_a_deleted_experiment_once_nothing_in_it_is_used(
    store: tuple[str, Path],
) -> None:
    url, root = store
    with db.connection_context():
        exp = _experiment("old", deleted_ms_ago=2 * DAY_MS)
        run_id = _run(exp, root)  # still "active" itself: it goes with its experiment
    result = _gc(url, root, "--older-than", "1d")
    assert result.returncode == 0, result.stderr
    assert not _exists(run_id)
    with db.connection_context():
        assert not Experiment.select().where(Experiment.name == "old").exists()
        assert Experiment.select().where(Experiment.experiment_id == 0).exists()
    assert not (root / str(exp.experiment_id)).exists()


def test_gc_rejects_a_bad_duration_in_one_line(store: tuple[str, Path]) -> None:
    url, root = store
    result = _gc(url, root, "--older-than", "soon")
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "not a duration" in result.stderr


@pytest.fixture
def engine_store(db_url: str, artifact_root: Path) -> Iterator[Path]:
    """The store bound to each engine in turn, and an empty artifact root."""
    database = open_database(db_url)
    with database.connection_context():
        yield artifact_root
    getattr(database, "close_all", database.close)()


# Each route by which a version may reference files that gc used to delete under it.
REFERENCES = {
    "runs:/ source, no run_id": ("runs:/{run}/model", {"run", "logged model"}),
    "runs:/ source naming a logged model": ("runs:/{run}/model/sub", {"run", "logged model"}),
    "models:/m- source, no model_id": ("models:/{model}", {"logged model"}),
    "mlflow-artifacts:/ source in the run": (
        "mlflow-artifacts:/{experiment}/{run}/artifacts/model",
        {"run", "logged model"},  # a kept run keeps its logged models
    ),
    # Every other spelling registration accepts for the same files.
    "upper-case RUNS:/ source": ("RUNS:/{run}/model", {"run", "logged model"}),
    "file: URI under the root": (
        "file://{root}/{experiment}/{run}/artifacts/model",
        {"run", "logged model"},
    ),
    "absolute path under the root": (
        "{root}/{experiment}/{run}/artifacts/model",
        {"run", "logged model"},
    ),
    "percent-encoded mlflow-artifacts:/": (
        "mlflow-artifacts:/{experiment}/{run_encoded}/artifacts/model",
        {"run", "logged model"},
    ),
    "mlflow-artifacts:/ source holding the whole experiment": (
        "mlflow-artifacts:/{experiment}",
        {"run", "logged model"},
    ),
}


@pytest.mark.parametrize("route", REFERENCES)
def test_gc_keeps_what_a_version_references_by_every_route(engine_store: Path, route: str) -> None:
    root = engine_store
    template, kept = REFERENCES[route]
    exp = _experiment("gone", deleted_ms_ago=3 * DAY_MS)
    run_id = _run(exp, root, deleted_ms_ago=3 * DAY_MS)
    model_id = "m-" + uuid.uuid4().hex
    now = int(time.time() * 1000)
    LoggedModel.create(
        model_id=model_id,
        experiment=exp,
        name="model",
        source_run_id=run_id,
        artifact_uri=f"mlflow-artifacts:/{exp.experiment_id}/models/{model_id}/artifacts",
        creation_timestamp_ms=now,
        last_updated_timestamp_ms=now,
    )
    model_file = root / str(exp.experiment_id) / "models" / model_id / "artifacts" / "MLmodel"
    model_file.parent.mkdir(parents=True)
    model_file.write_text("flavors: {}\n")
    source = template.format(
        run=run_id,
        run_encoded="".join(f"%{ord(c):02X}" for c in run_id),
        model=model_id,
        experiment=exp.experiment_id,
        root=root.resolve(),
    )
    registered = RegisteredModel.create(
        name="keeper", creation_timestamp=now, last_updated_timestamp=now
    )
    ModelVersion.create(
        registered_model=registered,
        version=1,
        creation_timestamp=now,
        last_updated_timestamp=now,
        source=source,
    )

    report = collect_garbage(LocalArtifactStore(root), Config(artifact_root=str(root)), now)

    run_kept = Run.select().where(Run.run_uuid == run_id).exists()
    model_kept = LoggedModel.select().where(LoggedModel.model_id == model_id).exists()
    assert (run_kept, model_kept) == ("run" in kept, "logged model" in kept)
    assert (root / str(exp.experiment_id) / run_id / "artifacts" / "note.txt").exists() == run_kept
    assert model_file.exists() == model_kept
    assert Experiment.select().where(Experiment.name == "gone").exists()
    assert f"experiment {exp.experiment_id}: holds runs or models still in use" in report.kept
