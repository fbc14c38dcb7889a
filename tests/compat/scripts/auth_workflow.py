"""Run by the OFFICIAL mlflow client against a Modelyard server started with --auth.

User ``ana`` exists; her credentials come in MLFLOW_TRACKING_USERNAME/PASSWORD. The script runs
the tracking workflow as her (Basic), mints a token and runs it again with MLFLOW_TRACKING_TOKEN
(Bearer), then tries anonymously. Prints one JSON document.
"""

import json
import os
import tempfile
from pathlib import Path

import mlflow
import requests
from mlflow.tracking import MlflowClient

uri = os.environ["MLFLOW_TRACKING_URI"]
out: dict = {"mlflow_version": mlflow.__version__}


def workflow(tag: str) -> dict:
    exp = mlflow.set_experiment(f"auth-{tag}")
    with mlflow.start_run() as run:
        mlflow.log_param("alpha", 0.01)
        mlflow.log_metric("rmse", 1.5)
        with tempfile.TemporaryDirectory() as tmp:
            note = Path(tmp) / "note.txt"
            note.write_text(tag)
            mlflow.log_artifact(str(note))
    client = MlflowClient()
    got = client.get_run(run.info.run_id)
    files = [f.path for f in client.list_artifacts(run.info.run_id)]
    return {"experiment_id": exp.experiment_id, "rmse": got.data.metrics["rmse"], "files": files}


out["basic"] = workflow("basic")

made = requests.post(
    f"{uri}/api/2.0/modelyard/tokens/create",
    json={"name": "compat", "scope": "write"},
    auth=("ana", "ana-password-1"),
    timeout=30,
)
made.raise_for_status()
del os.environ["MLFLOW_TRACKING_USERNAME"]
del os.environ["MLFLOW_TRACKING_PASSWORD"]
os.environ["MLFLOW_TRACKING_TOKEN"] = made.json()["secret"]
out["bearer"] = workflow("bearer")

del os.environ["MLFLOW_TRACKING_TOKEN"]
try:
    MlflowClient().search_experiments()
    out["anonymous"] = "allowed"
except Exception as err:  # the client's RestException
    out["anonymous"] = str(err)[:200]

print(json.dumps(out))
