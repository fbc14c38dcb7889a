"""Models cross between our client and the official one through a real server, both ways.

One official-client subprocess loads the models our client logged (``mlflow.pyfunc`` and
``mlflow.sklearn``), then logs its own (sklearn skops and cloudpickle, xgboost, a custom
pyfunc); our client loads those back. Predictions must match on both sides.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import xgboost as xgb
from sklearn.linear_model import Lasso

import registry as mlflow
from registry.client.tracking_uri import reset_tracking_uri
from tests.mlflow_env import MLFLOW_3, mlflow_python, run_official_client
from tests.servers import registry_server

pytestmark = [pytest.mark.compat, pytest.mark.e2e, pytest.mark.timeout(600)]

X = pd.DataFrame({"trip_distance": np.linspace(1.0, 20.0, 40), "PULocationID": np.arange(40.0)})
Y = X.trip_distance * 2.5 + 0.1 * X.PULocationID + 3

OFFICIAL = r"""
import json, sys
import numpy as np, pandas as pd, xgboost as xgb
import mlflow
from sklearn.linear_model import Lasso

ours = json.loads(sys.argv[1])
X = pd.DataFrame({"trip_distance": np.linspace(1.0, 20.0, 40), "PULocationID": np.arange(40.0)})
Y = X.trip_distance * 2.5 + 0.1 * X.PULocationID + 3
head = X.head(5)
out = {"loaded": {}, "logged": {}, "expected": {}}
for key, uri in ours.items():
    out["loaded"][key] = np.asarray(mlflow.pyfunc.load_model(uri).predict(head)).tolist()
out["loaded"]["sklearn_flavor"] = mlflow.sklearn.load_model(ours["skops"]).predict(head).tolist()


class AddOne(mlflow.pyfunc.PythonModel):
    def predict(self, context, model_input, params=None):
        return model_input["trip_distance"].to_numpy() + 1.0


mlflow.set_experiment("official")
REQ = ["scikit-learn", "xgboost"]  # skips requirement inference, a subprocess per model
lasso = Lasso(alpha=0.01).fit(X, Y)
booster = xgb.train({"max_depth": 2, "nthread": 1}, xgb.DMatrix(X, Y), 5)
with mlflow.start_run():
    info = mlflow.sklearn.log_model(lasso, name="skops", input_example=head, pip_requirements=REQ)
    out["logged"]["skops"] = info.model_uri
    out["logged"]["pickle"] = mlflow.sklearn.log_model(
        lasso, name="pickle", serialization_format="cloudpickle", pip_requirements=REQ).model_uri
    info = mlflow.xgboost.log_model(booster, name="xgb", pip_requirements=REQ)
    out["logged"]["xgboost"] = info.model_uri
    custom = mlflow.pyfunc.log_model(name="custom", python_model=AddOne(), pip_requirements=REQ)
    custom = custom.model_uri
out["expected"]["skops"] = out["expected"]["pickle"] = lasso.predict(head).tolist()
out["expected"]["xgboost"] = booster.predict(xgb.DMatrix(head)).tolist()

import registry.pyfunc  # ours, in this venv: unpickling the custom model needs mlflow
import registry

registry.set_tracking_uri(mlflow.get_tracking_uri())
out["custom_ours"] = np.asarray(registry.pyfunc.load_model(custom).predict(head)).tolist()
out["custom_expected"] = (head["trip_distance"].to_numpy() + 1.0).tolist()
print(json.dumps(out))
"""


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    mlflow_python(MLFLOW_3, with_project=True)  # built before the server starts
    with registry_server(tmp_path, workers=2) as base:
        mlflow.set_tracking_uri(base)
        yield base
        reset_tracking_uri()


def run_official(base: str, ours: dict[str, str], tmp_path: Path) -> dict[str, Any]:
    script = tmp_path / "official.py"
    script.write_text(OFFICIAL)
    return run_official_client(script, base, tmp_path, json.dumps(ours), with_project=True)


def test_models_cross_between_clients(server: str, tmp_path: Path) -> None:
    mlflow.set_experiment("ours")
    lasso = Lasso(alpha=0.01).fit(X, Y)
    booster = xgb.train({"max_depth": 2, "nthread": 1}, xgb.DMatrix(X, Y), 5)
    with mlflow.start_run() as run:
        mlflow.sklearn.log_model(lasso, name="model", input_example=X.head(3))
        mlflow.sklearn.log_model(lasso, name="pickled", serialization_format="cloudpickle")
        mlflow.xgboost.log_model(booster, artifact_path="models_mlflow")
    mlflow.register_model(f"runs:/{run.info.run_id}/model", "interop")
    run_id = run.info.run_id
    ours = {
        "skops": f"runs:/{run_id}/model",
        "registered": "models:/interop/1",
        "pickled": f"runs:/{run_id}/pickled",
        "xgboost": f"runs:/{run_id}/models_mlflow",
    }
    seen = run_official(server, ours, tmp_path)

    head = X.head(5)
    expected_lasso = lasso.predict(head)
    for key in ("skops", "registered", "pickled", "sklearn_flavor"):
        np.testing.assert_allclose(seen["loaded"][key], expected_lasso, rtol=1e-6)
    np.testing.assert_allclose(
        seen["loaded"]["xgboost"], booster.predict(xgb.DMatrix(head)), rtol=1e-6
    )
    for key, uri in seen["logged"].items():
        predictions = np.asarray(mlflow.pyfunc.load_model(uri).predict(head))
        np.testing.assert_allclose(predictions, seen["expected"][key], rtol=1e-6)
    assert isinstance(mlflow.sklearn.load_model(seen["logged"]["skops"]), Lasso)
    np.testing.assert_allclose(seen["custom_ours"], seen["custom_expected"])
