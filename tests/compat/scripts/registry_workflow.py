"""Run by the OFFICIAL mlflow client (in its own venv) against a Modelyard server: the registry.

Prints one JSON document of what the client saw; the pytest side asserts on it.
"""

import json
import sys

import mlflow
import numpy as np
from mlflow.tracking import MlflowClient
from sklearn.linear_model import LinearRegression

out: dict = {}
client = MlflowClient()
name = "compat-regressor"
mlflow.set_experiment("compat-registry")
MLFLOW3 = int(mlflow.__version__.split(".")[0]) >= 3
REQ = ["scikit-learn"]  # named: MLflow's inference reloads each model in a subprocess

rng = np.random.default_rng(1)
X = rng.normal(size=(30, 2))
models = []
run_ids = []
for coef in (1.0, 2.0):
    model = LinearRegression().fit(X, X @ np.array([coef, -coef]))
    models.append(model)
    with mlflow.start_run() as run:
        mlflow.log_param("coef", coef)
        if MLFLOW3:
            mlflow.sklearn.log_model(model, name="model", pip_requirements=REQ)
        else:
            mlflow.sklearn.log_model(model, "model", pip_requirements=REQ)
        run_ids.append(run.info.run_id)

v1 = mlflow.register_model(f"runs:/{run_ids[0]}/model", name)
v2 = mlflow.register_model(f"runs:/{run_ids[1]}/model", name)
out["versions"] = [v1.version, v2.version]
out["status"] = [v1.status, v2.status]

client.transition_model_version_stage(name, v1.version, "Production")
client.transition_model_version_stage(name, v2.version, "Staging")
client.transition_model_version_stage(
    name, v2.version, "Production", archive_existing_versions=True
)
out["stages"] = {v.version: v.current_stage for v in client.search_model_versions(f"name='{name}'")}
client.update_model_version(name, v2.version, description="the better one")
out["description"] = client.get_model_version(name, v2.version).description
out["latest_production"] = [
    v.version for v in client.get_latest_versions(name, stages=["Production"])
]

client.set_registered_model_alias(name, "champion", v2.version)
out["alias_version"] = client.get_model_version_by_alias(name, "champion").version
client.set_registered_model_alias(name, "challenger", v1.version)
client.delete_registered_model_alias(name, "challenger")
out["aliases"] = client.get_registered_model(name).aliases
client.set_model_version_tag(name, v2.version, "validated", "yes")
out["version_tags"] = client.get_model_version(name, v2.version).tags
out["search_by_tag"] = [
    v.version for v in client.search_model_versions(f"name='{name}' and tags.validated='yes'")
]
out["registered_search"] = [m.name for m in client.search_registered_models()]

expected = [float(v) for v in models[1].predict(X[:4])]
out["expected"] = expected
for uri in (f"models:/{name}/Production", f"models:/{name}/2", f"models:/{name}@champion"):
    predicted = mlflow.pyfunc.load_model(uri).predict(X[:4])
    out[uri] = [float(v) for v in np.asarray(predicted).ravel()]

client.rename_registered_model(name, name + "-renamed")
out["renamed_versions"] = sorted(
    v.version for v in client.search_model_versions(f"name='{name}-renamed'")
)
client.delete_model_version(name + "-renamed", v1.version)
out["after_version_delete"] = sorted(
    v.version for v in client.search_model_versions(f"name='{name}-renamed'")
)
client.delete_registered_model(name + "-renamed")
try:
    client.get_registered_model(name + "-renamed")
    out["after_model_delete"] = "still there"
except mlflow.exceptions.MlflowException as err:
    out["after_model_delete"] = err.error_code

json.dump(out, sys.stdout)
