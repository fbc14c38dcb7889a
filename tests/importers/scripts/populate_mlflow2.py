"""Run by the OFFICIAL mlflow 2.x client (with SQLAlchemy): fill an MLflow 2 SQL store to import.

Against ``MLFLOW_TRACKING_URI`` (a database URI) it creates an experiment, a parent run with a
nested child, a 150-step metric, a NaN point, a dataset input, artifacts, a deleted run and a
registry with stages, aliases, tags, a description and a deleted version, then prints one JSON
document: the ids, the expected predictions and, under ``seen``, what the client sees.
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
out: dict = {"mlflow_version": mlflow.__version__}
rng = np.random.default_rng(3)
X = rng.normal(size=(20, 2))
PROBE = [[1.0, 2.0], [0.5, -1.0]]

exp_id = mlflow.create_experiment("imp2-main", tags={"team": "nlp"})
mlflow.set_experiment(experiment_id=exp_id)
models = {}
with mlflow.start_run(run_name="parent") as parent:
    mlflow.log_params({"alpha": "0.2"})
    mlflow.set_tags({"developer": "bo"})
    history = [
        Metric("loss", 1.0 / (step + 1), 1_700_000_000_000 + step, step) for step in range(150)
    ]
    client.log_batch(parent.info.run_id, metrics=history)
    mlflow.log_metric("odd", math.nan, step=0)
    frame = pd.DataFrame(X, columns=["a", "b"])
    mlflow.log_input(mlflow.data.from_pandas(frame, name="train-set"), context="training")
    mlflow.log_text("hello artifacts", "notes/readme.txt")
    for coef in (1.0, 2.0):
        with mlflow.start_run(run_name=f"child-{coef}", nested=True) as child:
            model = LinearRegression().fit(X, X @ np.array([coef, -coef]))
            mlflow.log_param("coef", coef)
            # Named requirements skip MLflow's inference (a subprocess that reloads the model).
            mlflow.sklearn.log_model(
                model, artifact_path="model", pip_requirements=["scikit-learn"]
            )
            models[coef] = (child.info.run_id, model)
out["parent_run_id"] = parent.info.run_id

with mlflow.start_run(run_name="doomed") as doomed:
    mlflow.log_metric("x", 1.0)
client.delete_run(doomed.info.run_id)
out["deleted_run_id"] = doomed.info.run_id

name = "imp-regressor"
client.create_registered_model(name, tags={"owner": "ml"}, description="an MLflow 2 model")
v1 = mlflow.register_model(f"runs:/{models[1.0][0]}/model", name)
v2 = mlflow.register_model(f"runs:/{models[2.0][0]}/model", name)
v3 = mlflow.register_model(f"runs:/{models[2.0][0]}/model", name)
client.transition_model_version_stage(name, v1.version, "Staging")
client.transition_model_version_stage(name, v2.version, "Production")
client.set_model_version_tag(name, v2.version, "validated", "yes")
client.set_registered_model_alias(name, "champion", v2.version)
client.set_registered_model_alias(name, "challenger", v1.version)
client.delete_model_version(name, v3.version)
out["expected_production"] = models[2.0][1].predict(np.array(PROBE)).tolist()
out["expected_challenger"] = models[1.0][1].predict(np.array(PROBE)).tolist()
out["seen"] = snapshot(name)
json.dump(out, sys.stdout, default=str)
print()
