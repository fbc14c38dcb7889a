"""Autolog: the course's estimator loop and xgb.train with early stopping."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest
import xgboost as xgb
from sklearn.ensemble import ExtraTreesRegressor, GradientBoostingRegressor, RandomForestRegressor
from sklearn.svm import LinearSVR

import registry as mlflow
from registry.client import Client

RNG = np.random.default_rng(0)
X = pd.DataFrame(RNG.normal(size=(60, 3)), columns=["a", "b", "c"])
Y = X.a * 2 + RNG.normal(scale=0.1, size=60)


@pytest.fixture
def autologging(ml: Client) -> Iterator[None]:
    mlflow.autolog()
    yield
    mlflow.autolog(disable=True)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_course_loop_gives_one_complete_run_per_estimator(ml: Client, autologging: None) -> None:
    exp = mlflow.set_experiment("autolog")
    classes = (RandomForestRegressor, GradientBoostingRegressor, ExtraTreesRegressor, LinearSVR)
    for cls in classes:
        with mlflow.start_run():
            cls(**({"n_estimators": 5} if cls is not LinearSVR else {})).fit(X, Y)
    runs = ml.search_runs([exp.experiment_id], order_by=["attributes.start_time ASC"])
    assert [r.data.tags["estimator_name"] for r in runs] == [c.__name__ for c in classes]
    for run in runs:
        assert run.info.status == "FINISHED"
        assert {"training_mean_squared_error", "training_r2_score", "training_score"} <= set(
            run.data.metrics
        )
        assert len(run.model_outputs) == 1  # inner tree fits are not logged
    forest = runs[0]
    assert forest.data.params["n_estimators"] == "5"
    loaded = mlflow.pyfunc.load_model(f"runs:/{forest.info.run_id}/model")
    assert loaded.predict(X.head(3)).shape == (3,)


def test_fit_without_active_run_starts_and_ends_one(ml: Client, autologging: None) -> None:
    RandomForestRegressor(n_estimators=3).fit(X, Y)
    assert mlflow.active_run() is None
    run = mlflow.last_active_run()
    assert (
        run.info.status == "FINISHED" and run.data.tags["estimator_name"] == "RandomForestRegressor"
    )


def test_xgb_train_logs_rounds_and_best_iteration(ml: Client, autologging: None) -> None:
    train, valid = xgb.DMatrix(X[:45], Y[:45]), xgb.DMatrix(X[45:], Y[45:])
    with mlflow.start_run() as run:
        booster = xgb.train(
            {"max_depth": 2, "eta": 0.5},
            train,
            num_boost_round=200,
            evals=[(valid, "validation")],
            early_stopping_rounds=3,
            verbose_eval=False,
        )
    stored = ml.get_run(run.info.run_id)
    assert stored.data.params["max_depth"] == "2" and stored.data.params["num_boost_round"] == "200"
    best = int(stored.data.metrics["best_iteration"])
    assert best == booster.best_iteration
    stopped = int(stored.data.metrics["stopped_iteration"])
    history = ml.get_metric_history(run.info.run_id, "validation-rmse")
    assert [m.step for m in history] == list(range(stopped + 2))
    assert history[-1].value == history[best].value
    assert len(stored.model_outputs) == 1


def test_disable_restores_the_original_methods(ml: Client) -> None:
    fit, train = RandomForestRegressor.fit, xgb.train
    mlflow.sklearn.autolog()
    mlflow.xgboost.autolog()
    assert RandomForestRegressor.fit is not fit and xgb.train is not train
    mlflow.sklearn.autolog(disable=True)
    mlflow.xgboost.autolog(disable=True)
    assert RandomForestRegressor.fit is fit and xgb.train is train
    RandomForestRegressor(n_estimators=2).fit(X, Y)
    assert mlflow.last_active_run() is None


def test_sparse_dictvectorizer_input_still_logs_the_model_and_dataset(
    ml: Client, autologging: None, caplog: pytest.LogCaptureFixture
) -> None:
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LinearRegression

    records = [{"PU_DO": f"{i % 7}_{i % 5}", "trip_distance": float(i)} for i in range(40)]
    vectorizer = DictVectorizer()
    sparse = vectorizer.fit_transform(records)  # the course's features: a scipy CSR matrix
    target = np.arange(40, dtype=float)
    with caplog.at_level("WARNING"), mlflow.start_run() as run:
        model = LinearRegression().fit(sparse, target)
    assert "could not log" not in caplog.text
    logged = ml.get_run(run.info.run_id)
    assert len(logged.model_outputs) == 1
    loaded = mlflow.sklearn.load_model(f"runs:/{run.info.run_id}/model")
    assert np.allclose(loaded.predict(sparse[:3]), model.predict(sparse[:3]))
