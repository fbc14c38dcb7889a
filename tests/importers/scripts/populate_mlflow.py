"""Run by the OFFICIAL mlflow package (full server install): fill an MLflow store to import.

Against ``MLFLOW_TRACKING_URI`` (a database URI or a running MLflow server) it creates two
experiments (one later deleted), a parent run with two nested children, a 300-step metric, a NaN
point, a dataset input, artifacts, MLflow 3 logged models with params, tags and metrics, a
deleted run, and a registry with stages, aliases, tags, descriptions and a deleted version.
Prints one JSON document: the ids the test needs, the expected predictions and, under
``seen``, everything the official client then sees (``snapshot.py``).
"""

import json
import math
import sys

import mlflow
import numpy as np
import pandas as pd
from mlflow.entities import Metric
from mlflow.tracking import MlflowClient
from sklearn.linear_model import LinearRegression
from snapshot import snapshot  # beside this script

client = MlflowClient()
out: dict = {}
rng = np.random.default_rng(7)
X = rng.normal(size=(20, 2))
PROBE = [[1.0, 2.0], [0.5, -1.0]]

exp_id = mlflow.create_experiment("imp-main", tags={"team": "vision", "mlflow.note.content": "hi"})
out["experiment_id"] = exp_id
mlflow.set_experiment(experiment_id=exp_id)
models = {}
with mlflow.start_run(run_name="parent") as parent:
    mlflow.log_params({"alpha": "0.1", "layers": "3"})
    mlflow.set_tags({"developer": "ana", "stage": "exp"})
    history = [
        Metric("loss", 1.0 / (step + 1), 1_700_000_000_000 + step, step) for step in range(300)
    ]
    client.log_batch(parent.info.run_id, metrics=history)
    mlflow.log_metric("odd", math.nan, step=0)
    mlflow.log_metric("odd", 2.5, step=1)
    frame = pd.DataFrame(X, columns=["a", "b"])
    mlflow.log_input(mlflow.data.from_pandas(frame, name="train-set"), context="training")
    mlflow.log_text("hello artifacts", "notes/readme.txt")
    mlflow.log_dict({"k": [1, 2]}, "config/params.json")
    for coef in (1.0, 2.0):
        with mlflow.start_run(run_name=f"child-{coef}", nested=True) as child:
            model = LinearRegression().fit(X, X @ np.array([coef, -coef]))
            mlflow.log_param("coef", coef)
            info = mlflow.sklearn.log_model(
                model, name="model", params={"coef": coef}, pip_requirements=["scikit-learn"]
            )
            mlflow.log_metric("r2", 0.9 + coef / 100, step=0, model_id=info.model_id)
            mlflow.set_logged_model_tags(info.model_id, {"quality": f"q{coef}"})
            models[coef] = (child.info.run_id, info.model_id, model)
out["parent_run_id"] = parent.info.run_id
out["child_run_ids"] = [models[c][0] for c in (1.0, 2.0)]
out["logged_model_ids"] = [models[c][1] for c in (1.0, 2.0)]

with mlflow.start_run(run_name="doomed") as doomed:
    mlflow.log_metric("x", 1.0)
client.delete_run(doomed.info.run_id)
out["deleted_run_id"] = doomed.info.run_id

gone = mlflow.create_experiment("imp-gone")
with mlflow.start_run(experiment_id=gone, run_name="in-gone"):
    mlflow.log_param("p", "v")
client.delete_experiment(gone)
out["deleted_experiment_id"] = gone

name = "imp-regressor"
client.create_registered_model(name, tags={"owner": "ml"}, description="imported model")
v1 = mlflow.register_model(f"models:/{models[1.0][1]}", name)
v2 = mlflow.register_model(f"runs:/{models[2.0][0]}/model", name)
v3 = mlflow.register_model(f"runs:/{models[2.0][0]}/model", name)
client.transition_model_version_stage(name, v1.version, "Staging")
client.transition_model_version_stage(name, v2.version, "Production")
client.update_model_version(name, v2.version, description="the better one")
client.set_model_version_tag(name, v2.version, "validated", "yes")
client.set_registered_model_alias(name, "champion", v2.version)
client.set_registered_model_alias(name, "challenger", v1.version)
client.delete_model_version(name, v3.version)
out["versions"] = [v1.version, v2.version, v3.version]
out["registered_model"] = name
out["expected_production"] = models[2.0][2].predict(np.array(PROBE)).tolist()
out["expected_challenger"] = models[1.0][2].predict(np.array(PROBE)).tolist()
out["seen"] = snapshot(name)
json.dump(out, sys.stdout, default=str)
print()
