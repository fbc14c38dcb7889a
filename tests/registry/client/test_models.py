"""Logging models, registering them, and loading them back by every URI form."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xgboost as xgb
from sklearn.linear_model import Lasso

import registry as mlflow
from registry.client import Client
from registry.client.model_uris import download_model, resolve_model_uri
from registry.errors import InvalidParameter, NotFound, RegistryError

X = pd.DataFrame({"trip_distance": np.linspace(1, 20, 30), "PULocationID": np.arange(30.0)})
Y = X.trip_distance * 2.5 + 3


@pytest.fixture
def logged(ml: Client) -> tuple[str, Lasso]:
    mlflow.set_experiment("models")
    model = Lasso(alpha=0.01).fit(X, Y)
    with mlflow.start_run() as run:
        mlflow.log_param("alpha", 0.01)
        info = mlflow.sklearn.log_model(model, name="model", input_example=X.head(3))
    assert info.model_uri == f"models:/{info.model_id}" and info.run_id == run.info.run_id
    return run.info.run_id, model


def test_every_uri_form_loads_the_same_model(ml: Client, logged: tuple[str, Lasso]) -> None:
    run_id, model = logged
    expected = model.predict(X.head(5))
    v1 = mlflow.register_model(f"runs:/{run_id}/model", "nyc-taxi-regressor")
    v2 = mlflow.register_model(f"runs:/{run_id}/model", "nyc-taxi-regressor")
    assert (v1.version, v2.version, v1.status) == ("1", "2", "READY")
    assert v1.source == f"models:/{v1.model_id}" and v1.run_id == run_id
    ml.transition_model_version_stage(
        "nyc-taxi-regressor", 1, "Production", archive_existing_versions=True
    )
    ml.set_registered_model_alias("nyc-taxi-regressor", "champion", 2)
    uris = [
        f"runs:/{run_id}/model",
        "models:/nyc-taxi-regressor/1",
        "models:/nyc-taxi-regressor/Production",
        "models:/nyc-taxi-regressor/production",
        "models:/nyc-taxi-regressor/latest",
        "models:/nyc-taxi-regressor@champion",
        f"models:/{v1.model_id}",
    ]
    for uri in uris:
        np.testing.assert_allclose(mlflow.pyfunc.load_model(uri).predict(X.head(5)), expected)
    assert isinstance(mlflow.sklearn.load_model("models:/nyc-taxi-regressor/Production"), Lasso)
    resolved = resolve_model_uri("models:/nyc-taxi-regressor@champion", ml)
    assert (resolved.name, resolved.version, resolved.run_id) == ("nyc-taxi-regressor", "2", run_id)
    assert resolved.artifact_uri.startswith("mlflow-artifacts:/")
    assert resolve_model_uri("models:/nyc-taxi-regressor/Production", ml).version == "1"
    latest = ml.get_latest_versions("nyc-taxi-regressor", stages=["Production"])
    assert [(v.version, v.current_stage) for v in latest] == [("1", "Production")]


def test_download_model_and_artifact_uri(
    ml: Client, logged: tuple[str, Lasso], tmp_path: Path
) -> None:
    run_id, model = logged
    local = download_model(f"runs:/{run_id}/model", tmp_path / "a", ml)
    assert {"MLmodel", "model.skops", "input_example.json"} <= {p.name for p in local.iterdir()}
    artifact_uri = resolve_model_uri(f"runs:/{run_id}/model", ml).artifact_uri
    again = download_model(artifact_uri, tmp_path / "b", ml)
    assert (again / "MLmodel").read_bytes() == (local / "MLmodel").read_bytes()
    copied = download_model(str(local), tmp_path / "c")
    predictor = mlflow.pyfunc.load_model(str(copied))
    np.testing.assert_allclose(predictor.predict(X.head(2)), model.predict(X.head(2)))


def test_xgboost_artifact_path_and_pyfunc(ml: Client, tmp_path: Path) -> None:
    booster = xgb.train({"max_depth": 2}, xgb.DMatrix(X, Y), num_boost_round=5)
    with mlflow.start_run() as run:
        mlflow.xgboost.log_model(booster, artifact_path="models_mlflow")
    uri = f"runs:/{run.info.run_id}/models_mlflow"
    loaded = mlflow.xgboost.load_model(uri)
    np.testing.assert_allclose(
        loaded.predict(xgb.DMatrix(X.head(3))), booster.predict(xgb.DMatrix(X.head(3)))
    )
    np.testing.assert_allclose(
        mlflow.pyfunc.load_model(uri).predict(X.head(3)), booster.predict(xgb.DMatrix(X.head(3)))
    )


def test_names_that_name_nothing(ml: Client, logged: tuple[str, Lasso]) -> None:
    run_id, _ = logged
    bad = {
        f"runs:/{run_id}/nothing": NotFound,
        "runs:/0123456789abcdef0123456789abcdef/model": NotFound,
        "models:/no-such-model/1": NotFound,
        "models:/no-such-model/Production": NotFound,
        "models:/m-0123456789abcdef0123456789abcdef": NotFound,
        "models:/x/Prod": InvalidParameter,
        "s3x://bucket/model": InvalidParameter,
    }
    for uri, error in bad.items():
        with pytest.raises(error):
            mlflow.pyfunc.load_model(uri)


def test_wrong_model_kind_leaves_nothing(ml: Client) -> None:
    exp = mlflow.set_experiment("wrong")
    with mlflow.start_run():
        with pytest.raises(InvalidParameter, match="scikit-learn"):
            mlflow.sklearn.log_model("not a model", name="model")
        with pytest.raises(InvalidParameter, match="xgboost"):
            mlflow.xgboost.log_model(Lasso(), name="model")
    assert list(ml.search_logged_models([exp.experiment_id])) == []


def test_tampered_model_file_is_refused(
    ml: Client, logged: tuple[str, Lasso], tmp_path: Path
) -> None:
    run_id, _ = logged
    local = download_model(f"runs:/{run_id}/model", tmp_path / "m", ml)
    payload = local / "model.skops"
    payload.write_bytes(payload.read_bytes()[:-10] + b"0123456789")
    with pytest.raises(RegistryError):
        mlflow.pyfunc.load_model(str(local))


def test_history_rollback_and_lineage(ml: Client, logged: tuple[str, Lasso]) -> None:
    run_id, _ = logged
    for _ in range(2):
        mlflow.register_model(f"runs:/{run_id}/model", "hist")
    ml.transition_model_version_stage("hist", 1, "Production")
    ml.transition_model_version_stage("hist", 2, "Production", archive_existing_versions=True)
    history = ml.get_model_history("hist")
    moves = {(t.version, t.from_value, t.to_value) for t in history}
    assert {("1", "None", "Production"), ("2", "None", "Production")} <= moves
    assert ("1", "Production", "Archived") in moves
    assert ml.get_version_holders("hist", stage="Production") == ["2"]
    ml.rollback("hist", stage="Production")
    assert ml.get_version_holders("hist", stage="Production") == ["1"]
    lineage = ml.get_model_version_lineage("hist", 1)
    assert lineage.model_version.version == "1" and lineage.run is not None
    assert {v.version for v in ml.get_model_versions_by_run(run_id)} == {"1", "2"}


class AddOne(mlflow.pyfunc.PythonModel):
    def load_context(self, context: mlflow.pyfunc.PythonModelContext) -> None:
        self.offset = float(Path(context.artifacts["offset"]).read_text())

    def predict(self, context: object, model_input: pd.DataFrame, params: object = None) -> object:
        return model_input["trip_distance"].to_numpy() + self.offset


def test_custom_python_model_with_artifact(ml: Client, tmp_path: Path) -> None:
    offset = tmp_path / "offset.txt"
    offset.write_text("1.5")
    with mlflow.start_run() as run:
        info = mlflow.pyfunc.log_model(
            name="custom",
            python_model=AddOne(),
            artifacts={"offset": str(offset)},
            registered_model_name="custom-model",
        )
    assert info.registered_model_version == "1"
    for uri in (f"runs:/{run.info.run_id}/custom", "models:/custom-model/1"):
        predictions = mlflow.pyfunc.load_model(uri).predict(X.head(3))
        np.testing.assert_allclose(predictions, X.trip_distance.head(3) + 1.5)
    with mlflow.start_run(), pytest.raises(InvalidParameter, match="PythonModel"):
        mlflow.pyfunc.log_model(name="bad", python_model=lambda x: x)  # type: ignore[arg-type]
