"""The course's test_model(): DictVectorizer output into a registered model's pyfunc predict."""

from __future__ import annotations

import numpy as np
from sklearn.feature_extraction import DictVectorizer
from sklearn.linear_model import LinearRegression

import registry as mlflow
from registry import fluent
from registry.client import Client
from registry.client.tracking_uri import reset_tracking_uri

TRIPS = [
    {"PU_DO": f"{pu}_{do}", "trip_distance": float(pu + do)} for pu in range(6) for do in range(5)
]


def test_autologged_model_predicts_on_sparse_rows_from_production(sqlite_url):
    dv = DictVectorizer()
    x_train = dv.fit_transform(TRIPS[:24])
    y_train = np.array([t["trip_distance"] * 2.5 + 3 for t in TRIPS[:24]])
    mlflow.set_tracking_uri(sqlite_url)
    mlflow.sklearn.autolog()
    try:
        with mlflow.start_run() as run:
            model = LinearRegression().fit(x_train, y_train)
        version = mlflow.register_model(f"runs:/{run.info.run_id}/model", "nyc-taxi-regressor")
        Client().transition_model_version_stage("nyc-taxi-regressor", version.version, "Production")
        loaded = mlflow.pyfunc.load_model("models:/nyc-taxi-regressor/Production")
        x_test = dv.transform(TRIPS[24:])
        np.testing.assert_allclose(loaded.predict(x_test), model.predict(x_test))
        spec = loaded.signature.inputs.specs[0]
        assert (spec.dtype, spec.shape) == ("float64", (-1, x_train.shape[1]))
    finally:
        mlflow.sklearn.autolog(disable=True)
        while fluent.active_run() is not None:
            fluent.end_run()
        reset_tracking_uri()
