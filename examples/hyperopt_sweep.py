"""A tiny hyperopt sweep of XGBoost with one parent run and a nested run per trial.

python examples/hyperopt_sweep.py sqlite:///mlflow.db
"""

from __future__ import annotations

import sys

import numpy as np
import xgboost as xgb
from hyperopt import STATUS_OK, Trials, fmin, hp, tpe
from sklearn.metrics import root_mean_squared_error

import registry as mlflow


def main(tracking_uri: str, trials: int = 3) -> None:
    mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_experiment("xgboost-sweep")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 4))
    y = x @ np.array([1.5, -2.0, 0.5, 0.0]) + rng.normal(0, 0.3, 300)
    train, valid = xgb.DMatrix(x[:200], label=y[:200]), xgb.DMatrix(x[200:], label=y[200:])

    def objective(params: dict[str, float]) -> dict[str, object]:
        with mlflow.start_run(nested=True):
            mlflow.set_tag("model", "xgboost")
            mlflow.log_params(params)
            booster = xgb.train(
                {
                    **params,
                    "max_depth": int(params["max_depth"]),
                    "objective": "reg:squarederror",
                    "nthread": 1,
                },
                train,
                num_boost_round=20,
            )
            rmse = root_mean_squared_error(y[200:], booster.predict(valid))
            mlflow.log_metric("rmse", rmse)
        return {"loss": rmse, "status": STATUS_OK}

    space = {
        "max_depth": hp.quniform("max_depth", 2, 6, 1),
        "learning_rate": hp.loguniform("learning_rate", -3, 0),
    }
    with mlflow.start_run(run_name="sweep") as parent:
        best = fmin(
            objective,
            space,
            algo=tpe.suggest,
            max_evals=trials,
            trials=Trials(),
            rstate=np.random.default_rng(1),
            show_progressbar=False,
        )
        mlflow.log_params({f"best_{k}": v for k, v in best.items()})
    children = mlflow.search_runs(
        filter_string=f"tags.mlflow.parentRunId = '{parent.info.run_id}'",
        order_by=["metrics.rmse ASC"],
    )
    print(f"{len(children)} trials; best rmse {children['metrics.rmse'].iloc[0]:.3f}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "sqlite:///mlflow.db")
