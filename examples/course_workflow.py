"""The MLflow course workflow with one import changed: ``import registry as mlflow``.

Trains a Lasso and an XGBoost model on synthetic taxi trips, logs params, metrics, a pickled
DictVectorizer and the models, registers the best one, promotes it to Production and loads it
back by stage. Run it with a tracking URI (default ``sqlite:///mlflow.db``)::

    python examples/course_workflow.py sqlite:///mlflow.db
"""

from __future__ import annotations

import pickle
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import xgboost as xgb
from sklearn.feature_extraction import DictVectorizer
from sklearn.linear_model import Lasso
from sklearn.metrics import root_mean_squared_error

import registry as mlflow
from registry import MlflowClient
from registry.entities import ViewType

MODEL_NAME = "nyc-taxi-regressor"


def make_trips(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    trips = pd.DataFrame(
        {
            "PULocationID": rng.integers(1, 30, n).astype(str),
            "DOLocationID": rng.integers(1, 30, n).astype(str),
            "trip_distance": rng.gamma(2.0, 2.0, n),
        }
    )
    trips["duration"] = 4 + 3.1 * trips.trip_distance + rng.normal(0, 2, n)
    return trips


def features(trips: pd.DataFrame, dv: DictVectorizer, fit: bool) -> np.ndarray:
    trips = trips.assign(PU_DO=trips.PULocationID + "_" + trips.DOLocationID)
    records = trips[["PU_DO", "trip_distance"]].to_dict(orient="records")
    return dv.fit_transform(records) if fit else dv.transform(records)


def main(tracking_uri: str) -> None:
    mlflow.set_tracking_uri(tracking_uri)
    experiment = mlflow.set_experiment("nyc-taxi-experiment")
    train, valid = make_trips(2000, 1), make_trips(500, 2)
    dv = DictVectorizer(sparse=False)
    x_train, x_valid = features(train, dv, fit=True), features(valid, dv, fit=False)
    y_train, y_valid = train.duration.to_numpy(), valid.duration.to_numpy()

    with mlflow.start_run():
        mlflow.set_tag("developer", "ana")
        mlflow.log_param("train-data-path", "synthetic/green_tripdata_2021-01")
        alpha = 0.01
        mlflow.log_param("alpha", alpha)
        lasso = Lasso(alpha).fit(x_train, y_train)
        mlflow.log_metric("rmse", root_mean_squared_error(y_valid, lasso.predict(x_valid)))
        with tempfile.TemporaryDirectory() as tmp:
            preprocessor = Path(tmp) / "preprocessor.b"
            preprocessor.write_bytes(pickle.dumps(dv))
            mlflow.log_artifact(preprocessor, artifact_path="preprocessor")
        mlflow.sklearn.log_model(lasso, "model")

    with mlflow.start_run() as run:
        params = {
            "max_depth": 6,
            "learning_rate": 0.2,
            "objective": "reg:squarederror",
            "nthread": 1,
        }
        mlflow.log_params(params)
        booster = xgb.train(
            params,
            xgb.DMatrix(x_train, label=y_train),
            num_boost_round=50,
            evals=[(xgb.DMatrix(x_valid, label=y_valid), "validation")],
            early_stopping_rounds=5,
            verbose_eval=False,
        )
        rmse = root_mean_squared_error(y_valid, booster.predict(xgb.DMatrix(x_valid)))
        mlflow.log_metric("rmse", rmse)
        mlflow.xgboost.log_model(booster, artifact_path="models_mlflow")

    client = MlflowClient()
    best = client.search_runs(
        experiment_ids=[experiment.experiment_id],
        filter_string="metrics.rmse < 6.8",
        run_view_type=ViewType.ACTIVE_ONLY,
        max_results=5,
        order_by=["metrics.rmse ASC"],
    )[0]
    model_path = "models_mlflow" if best.info.run_id == run.info.run_id else "model"
    version = mlflow.register_model(f"runs:/{best.info.run_id}/{model_path}", MODEL_NAME)
    client.transition_model_version_stage(
        MODEL_NAME, version.version, "Production", archive_existing_versions=True
    )

    model = mlflow.pyfunc.load_model(f"models:/{MODEL_NAME}/Production")
    frame = pd.DataFrame(x_valid[:5], columns=dv.get_feature_names_out())
    predictions = np.asarray(model.predict(frame))
    print(f"version {version.version} in Production, rmse {best.data.metrics['rmse']:.3f}")
    print("predictions:", np.round(predictions, 2).tolist())


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "sqlite:///mlflow.db")
