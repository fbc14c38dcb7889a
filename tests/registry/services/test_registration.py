"""Registration's digest: bounded, pinned to the version it names, safe against gc, backfilled."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sklearn.linear_model import Lasso

import registry as mlflow
from registry import fluent
from registry.client import Client
from registry.client.tracking_uri import reset_tracking_uri
from registry.client.transport import embedded_artifact_root
from registry.config import Config
from registry.errors import NotFound
from registry.models.digest import directory_digest
from registry.server.app import create_app
from registry.store import open_database, sqlite_path, write_transaction
from registry.store.model_versions import lock_references
from registry.store.models import Experiment, LoggedModel, Run

X = pd.DataFrame({"a": np.linspace(1, 20, 30), "b": np.arange(30.0)})
Y = X.a * 2.5 + 3
API = "/api/2.0/mlflow"
OURS = "/api/2.0/modelyard"
ARTIFACTS = "/api/2.0/mlflow-artifacts/artifacts"


def _app(tmp_path: Path, **settings: object) -> Iterator[FlaskClient]:
    config = Config(
        database_url=f"sqlite:///{tmp_path}/db.sqlite",
        artifact_root=str(tmp_path / "art"),
        auto_migrate=True,
        **settings,  # type: ignore[arg-type]
    )
    app: Flask = create_app(config)
    yield app.test_client()
    app.extensions["registry"].database.close()


@pytest.fixture
def capped(tmp_path: Path) -> Iterator[FlaskClient]:
    """A server that hashes at most 3 files and 1000 bytes per registration."""
    yield from _app(tmp_path, max_digest_files=3, max_digest_bytes=1000)


def _put(client: FlaskClient, files: dict[str, bytes]) -> None:
    for path, content in files.items():
        assert client.put(f"{ARTIFACTS}/{path}", data=content).status_code == 200


def _create(client: FlaskClient, source: str, name: str = "m") -> tuple[int, dict[str, object]]:
    client.post(f"{API}/registered-models/create", json={"name": name})
    created = client.post(f"{API}/model-versions/create", json={"name": name, "source": source})
    return created.status_code, created.get_json()


def _digest(client: FlaskClient, name: str, version: str) -> object:
    query = {"name": name, "version": version}
    return client.get(f"{OURS}/model-versions/get-digest", query_string=query).get_json()[
        "model_digest"
    ]


def test_registration_refuses_to_hash_more_files_or_bytes_than_the_caps(
    capped: FlaskClient, tmp_path: Path
) -> None:
    _put(capped, {"7/small/MLmodel": b"flavors: {}\n", "7/small/w.bin": b"x" * 10})
    _put(capped, {f"7/many/{i}.bin": b"x" for i in range(4)} | {"7/many/MLmodel": b"{}"})
    _put(capped, {"7/big/MLmodel": b"flavors: {}\n", "7/big/w.bin": b"x" * 1001})
    _put(capped, {"7/MLmodel": b"flavors: {}\n"})  # turns the whole experiment into a "model"

    assert _create(capped, "mlflow-artifacts:/7/small")[0] == 200
    assert _digest(capped, "m", "1") == directory_digest(tmp_path / "art" / "7" / "small")
    for source, setting in [
        ("mlflow-artifacts:/7/many", "REGISTRY_MAX_DIGEST_FILES"),
        ("mlflow-artifacts:/7/big", "REGISTRY_MAX_DIGEST_BYTES"),
        ("mlflow-artifacts:/7", "REGISTRY_MAX_DIGEST_FILES"),  # a whole experiment
    ]:
        status, body = _create(capped, source)
        assert status == 400, source
        assert body["error_code"] == "INVALID_PARAMETER_VALUE"
        assert setting in str(body["message"])


def test_a_source_naming_the_artifact_root_itself_is_hashed(tmp_path: Path) -> None:
    for client in _app(tmp_path):
        _put(client, {"MLmodel": b"flavors: {}\n", "7/run0/artifacts/w.bin": b"x"})
        assert _create(client, "mlflow-artifacts:/")[0] == 200
        assert _digest(client, "m", "1") == directory_digest(tmp_path / "art")


def test_a_run_in_an_allowed_external_location_gets_its_digest(tmp_path: Path) -> None:
    external = tmp_path / "ext"
    for client in _app(tmp_path, allowed_artifact_locations=f"file://{external}"):
        created = client.post(
            f"{API}/experiments/create",
            json={"name": "e", "artifact_location": f"file://{external}/e"},
        ).get_json()
        run = client.post(
            f"{API}/runs/create", json={"experiment_id": created["experiment_id"]}
        ).get_json()["run"]["info"]
        model_dir = Path(run["artifact_uri"].removeprefix("file://")) / "model"
        model_dir.mkdir(parents=True)
        (model_dir / "MLmodel").write_text("flavors: {}\n")  # what the official client writes
        assert _create(client, f"runs:/{run['run_id']}/model")[0] == 200
        assert _digest(client, "m", "1") == directory_digest(model_dir)


@pytest.fixture
def embedded(sqlite_url: str) -> Iterator[tuple[Client, Path]]:
    """The fluent API on an embedded SQLite store, and that store's artifact directory."""
    mlflow.set_tracking_uri(sqlite_url)
    yield fluent.client(), Path(embedded_artifact_root(sqlite_url))
    while fluent.active_run() is not None:
        fluent.end_run()
    reset_tracking_uri()


def _register(name: str, alpha: float) -> str:
    with mlflow.start_run() as run:
        mlflow.sklearn.log_model(Lasso(alpha=alpha).fit(X, Y), name="model")
    return mlflow.register_model(f"runs:/{run.info.run_id}/model", name).version


def test_a_stage_or_alias_source_is_pinned_to_the_version_it_named(
    embedded: tuple[Client, Path],
) -> None:
    client, _ = embedded
    first = _register("m", 0.01)
    client.transition_model_version_stage("m", first, "Production")
    client.set_registered_model_alias("m", "champion", first)
    client.create_registered_model("follow")
    by_stage = client.create_model_version("follow", "models:/m/Production")
    by_alias = client.create_model_version("follow", "models:/m@champion")
    assert by_stage.source == by_alias.source == f"models:/m/{first}"

    second = _register("m", 0.5)
    client.transition_model_version_stage("m", second, "Production", True)
    client.set_registered_model_alias("m", "champion", second)
    expected = Lasso(alpha=0.01).fit(X, Y).predict(X.head(2))
    for version in (by_stage.version, by_alias.version):
        loaded = mlflow.pyfunc.load_model(f"models:/follow/{version}")
        np.testing.assert_allclose(loaded.predict(X.head(2)), expected)


def test_backfill_records_a_version_whose_source_is_a_version_backfilled_later(
    embedded: tuple[Client, Path], sqlite_url: str
) -> None:
    client, root = embedded
    _register("b", 0.01)
    client.create_registered_model("a")
    client.create_model_version("a", "models:/b/1")
    with sqlite3.connect(sqlite_path(sqlite_url)) as connection:
        connection.execute("UPDATE model_versions SET model_digest = NULL")

    result = subprocess.run(
        [sys.executable, "-m", "registry.cli", "models", "digest", "--backfill",
         "--backend-store-uri", sqlite_url, "--artifacts-destination", str(root)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    assert "Recorded 2 digests; 0 versions have no model files." in result.stdout
    digest = client.get_model_version_digest("b", "1")
    assert digest is not None and client.get_model_version_digest("a", "1") == digest


@pytest.fixture
def bound(db_url: str) -> Iterator[None]:
    """The store bound to each engine in turn."""
    database = open_database(db_url)
    with database.connection_context():
        yield
    getattr(database, "close_all", database.close)()


def test_locking_the_references_of_a_new_version_refuses_rows_gc_removed(bound: None) -> None:
    now = int(time.time() * 1000)
    experiment = Experiment.create(
        name="e", artifact_location="x", creation_time=now, last_update_time=now
    )
    run_id = uuid.uuid4().hex
    Run.create(run_uuid=run_id, experiment=experiment, start_time=now, artifact_uri="x")
    model_id = "m-" + uuid.uuid4().hex
    LoggedModel.create(
        model_id=model_id,
        experiment=experiment,
        name="model",
        artifact_uri="x",
        creation_timestamp_ms=now,
        last_updated_timestamp_ms=now,
    )
    with write_transaction():
        lock_references([run_id], [model_id])

    Run.delete().where(Run.run_uuid == run_id).execute()  # as gc does, committed meanwhile
    with (
        pytest.raises(NotFound, match=f"Run {run_id} was permanently deleted"),
        write_transaction(),
    ):
        lock_references([run_id], [model_id])
    LoggedModel.delete().where(LoggedModel.model_id == model_id).execute()
    with pytest.raises(NotFound, match=f"Logged model {model_id}"), write_transaction():
        lock_references([], [model_id])
