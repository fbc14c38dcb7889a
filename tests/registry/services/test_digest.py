"""Model digests: recorded by the server at registration, checked on every ``models:/`` load."""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xgboost as xgb
from flask.testing import FlaskClient
from sklearn.linear_model import Lasso, LinearRegression

import registry as mlflow
from registry import fluent
from registry.client import Client
from registry.client.tracking_uri import reset_tracking_uri
from registry.client.transport import embedded_artifact_root
from registry.errors import InvalidParameter, InvalidState
from registry.models import sklearn as sklearn_flavor
from registry.models import xgboost as xgboost_flavor
from registry.models.digest import directory_digest, pickle_reason
from registry.models.mlmodel import read_mlmodel
from registry.store import sqlite_path
from serving.loader import ModelSource

X = pd.DataFrame({"a": np.linspace(1, 20, 30), "b": np.arange(30.0)})
Y = X.a * 2.5 + 3
API = "/api/2.0/mlflow"
OURS = "/api/2.0/modelyard"


@pytest.fixture
def embedded(sqlite_url: str) -> Iterator[tuple[Client, Path]]:
    """The fluent API on an embedded SQLite store, and that store's artifact directory."""
    mlflow.set_tracking_uri(sqlite_url)
    yield fluent.client(), Path(embedded_artifact_root(sqlite_url))
    while fluent.active_run() is not None:
        fluent.end_run()
    reset_tracking_uri()


def _register(client: Client, name: str = "m", alpha: float = 0.01) -> str:
    with mlflow.start_run() as run:
        mlflow.sklearn.log_model(Lasso(alpha=alpha).fit(X, Y), name="model")
    return mlflow.register_model(f"runs:/{run.info.run_id}/model", name).version


def _files_of(client: Client, root: Path, name: str, version: str) -> Path:
    uri = client.get_model_version_download_uri(name, version)
    return root / uri.removeprefix("mlflow-artifacts:/")


def test_the_digest_changes_with_any_file_and_ignores_order(tmp_path: Path) -> None:
    model = tmp_path / "model"
    sklearn_flavor.save_model(LinearRegression().fit(X, Y), model)
    first = directory_digest(model)
    copy = tmp_path / "copy"
    shutil.copytree(model, copy)
    assert directory_digest(copy) == first and first.startswith("sha256:")

    edits = {
        "MLmodel edited": lambda d: (d / "MLmodel").write_text((d / "MLmodel").read_text() + "\n"),
        "file added": lambda d: (d / "extra.txt").write_text("x"),
        "file renamed": lambda d: (d / "model.skops").rename(d / "other.skops"),
        "file removed": lambda d: (d / "requirements.txt").unlink(),
    }
    for what, edit in edits.items():
        changed = tmp_path / what.replace(" ", "-")
        shutil.copytree(model, changed)
        edit(changed)
        assert directory_digest(changed) != first, what


def test_the_server_records_the_digest_of_what_the_client_downloads(client: FlaskClient) -> None:
    body = {"name": "m", "version": "1"}
    assert client.post(f"{API}/registered-models/create", json={"name": "m"}).status_code == 200
    experiment = client.post(f"{API}/experiments/create", json={"name": "e"}).get_json()
    run = client.post(
        f"{API}/runs/create", json={"experiment_id": experiment["experiment_id"]}
    ).get_json()["run"]["info"]
    files = {"MLmodel": b"flavors: {}\n", "data/weights.bin": b"\x00\x01", "README": b"hi"}
    for path, content in files.items():
        where = f"{experiment['experiment_id']}/{run['run_id']}/artifacts/model/{path}"
        url = f"/api/2.0/mlflow-artifacts/artifacts/{where}"
        assert client.put(url, data=content).status_code == 200
    source = f"runs:/{run['run_id']}/model"
    created = client.post(f"{API}/model-versions/create", json={"name": "m", "source": source})
    assert created.status_code == 200
    recorded = client.get(f"{OURS}/model-versions/get-digest", query_string=body).get_json()
    assert recorded == {"name": "m", "version": "1", "model_digest": _digest_of(files)}
    assert "model_digest" not in created.get_json()["model_version"]  # MLflow's shape, unchanged

    missing = client.get(f"{OURS}/model-versions/get-digest", query_string={**body, "version": 9})
    assert missing.status_code == 404
    assert missing.get_json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"


def _digest_of(files: dict[str, bytes]) -> str:
    rows = sorted([p, len(c), hashlib.sha256(c).hexdigest()] for p, c in files.items())
    text = json.dumps(rows, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def test_load_model_refuses_files_changed_after_registration(
    embedded: tuple[Client, Path], tmp_path: Path
) -> None:
    client, root = embedded
    version = _register(client)
    for _ in range(2):  # a second download into the same folder is checked the same way
        loaded = mlflow.pyfunc.load_model(f"models:/m/{version}", dst_path=tmp_path / "dst")
    trusted = loaded.predict(X.head(3))
    np.testing.assert_allclose(trusted, Lasso(alpha=0.01).fit(X, Y).predict(X.head(3)))

    files = _files_of(client, root, "m", version)
    other = Lasso(alpha=5.0).fit(X, Y)
    shutil.rmtree(files)
    sklearn_flavor.save_model(other, files)  # MLmodel and model file replaced, hashes and all
    client.transition_model_version_stage("m", version, "Production")
    for uri in (f"models:/m/{version}", "models:/m/Production", "models:/m/latest"):
        with pytest.raises(InvalidParameter, match="do not match the digest recorded"):
            mlflow.pyfunc.load_model(uri)
    refused = tmp_path / "refused"
    with pytest.raises(InvalidParameter, match="do not match the digest recorded"):
        mlflow.sklearn.load_model(f"models:/m/{version}", dst_path=refused)
    assert list(refused.iterdir()) == []


def test_a_version_without_a_digest_is_refused_until_backfilled(
    embedded: tuple[Client, Path], sqlite_url: str
) -> None:
    client, root = embedded
    version = _register(client)
    with sqlite3.connect(sqlite_path(sqlite_url)) as connection:
        # As migration 3 leaves the versions registered before it.
        connection.execute("UPDATE model_versions SET model_digest = NULL")
    with pytest.raises(InvalidState, match="models digest --backfill"):
        mlflow.pyfunc.load_model(f"models:/m/{version}")

    backfill = _cli(
        "models", "digest", "--backfill", "--backend-store-uri", sqlite_url,
        "--artifacts-destination", str(root),
    )  # fmt: skip
    assert backfill.returncode == 0, backfill.stderr
    assert f"Recorded m version {version}: sha256:" in backfill.stdout
    assert mlflow.pyfunc.load_model(f"models:/m/{version}").predict(X.head(1)).shape == (1,)
    again = _cli(
        "models", "digest", "--backfill", "--backend-store-uri", sqlite_url,
        "--artifacts-destination", str(root),
    )  # fmt: skip
    assert "Recorded 0 digests" in again.stdout


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "registry.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_version_of_another_version_carries_its_digest(embedded: tuple[Client, Path]) -> None:
    client, _ = embedded
    version = _register(client)
    client.create_registered_model("copy")
    copied = client.create_model_version("copy", f"models:/m/{version}")
    assert client.get_model_version_digest("copy", copied.version) == (
        client.get_model_version_digest("m", version)
    )
    assert mlflow.pyfunc.load_model(f"models:/copy/{copied.version}").predict(X.head(1)).shape


def test_pickle_is_named_for_every_format_that_runs_code(tmp_path: Path) -> None:
    fitted = LinearRegression().fit(X, Y)
    sklearn_flavor.save_model(fitted, tmp_path / "skops")
    sklearn_flavor.save_model(fitted, tmp_path / "cloud", serialization_format="cloudpickle")
    sklearn_flavor.save_model(fitted, tmp_path / "pickle", serialization_format="pickle")
    booster = xgb.train({"max_depth": 2}, xgb.DMatrix(X, label=Y), num_boost_round=2)
    xgboost_flavor.save_model(booster, tmp_path / "xgb")

    assert pickle_reason(read_mlmodel(tmp_path / "skops")) is None
    assert pickle_reason(read_mlmodel(tmp_path / "xgb")) is None
    assert "cloudpickle" in str(pickle_reason(read_mlmodel(tmp_path / "cloud")))
    assert "pickle" in str(pickle_reason(read_mlmodel(tmp_path / "pickle")))


def test_serving_refuses_a_pickled_model_unless_allowed(tmp_path: Path) -> None:
    fitted = LinearRegression().fit(X, Y)
    sklearn_flavor.save_model(fitted, tmp_path / "cloud", serialization_format="cloudpickle")
    sklearn_flavor.save_model(fitted, tmp_path / "skops")
    with pytest.raises(InvalidParameter, match="SERVING_ALLOW_PICKLE=true"):
        ModelSource(str(tmp_path / "cloud"), "").load()
    allowed = ModelSource(str(tmp_path / "cloud"), "", allow_pickle=True).load()
    assert allowed.predictor.predict(X.head(2)).shape == (2,)
    assert ModelSource(str(tmp_path / "skops"), "").load().predictor.predict(X.head(2)).shape
