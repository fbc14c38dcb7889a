"""Run by the OFFICIAL mlflow client (in its own venv) against a Modelyard server.

Prints one JSON document of what the client saw; the pytest side asserts on it. The script
itself asserts only where a failure would otherwise hide the next step.
"""

import json
import sys
import tempfile
from pathlib import Path

import mlflow
import numpy as np
from mlflow.entities import ViewType
from mlflow.tracking import MlflowClient
from sklearn.linear_model import LinearRegression

out: dict = {"mlflow_version": mlflow.__version__}
client = MlflowClient()

exp = mlflow.set_experiment("compat-tracking")
out["experiment_id"] = exp.experiment_id
out["experiment_again"] = mlflow.set_experiment("compat-tracking").experiment_id

rng = np.random.default_rng(0)
X = rng.normal(size=(40, 3))
y = X @ np.array([1.5, -2.0, 0.5]) + 0.1
model = LinearRegression().fit(X, y)

with mlflow.start_run(run_name="parent") as parent:
    mlflow.set_tag("developer", "ana")
    mlflow.log_param("alpha", 0.01)
    mlflow.log_params({"l1_ratio": "0.5", "model": "linreg"})
    for step, value in enumerate([3.0, 2.0, 1.5]):
        mlflow.log_metric("rmse", value, step=step)
    mlflow.log_metrics({"mae": 0.7, "r2": 0.9})
    with tempfile.TemporaryDirectory() as tmp:
        note = Path(tmp) / "note.txt"
        note.write_text("hello artifacts")
        mlflow.log_artifact(str(note), artifact_path="notes")
        folder = Path(tmp) / "folder"
        folder.mkdir()
        (folder / "a.json").write_text('{"a": 1}')
        (folder / "b.csv").write_text("x,y\n1,2\n")
        mlflow.log_artifacts(str(folder), artifact_path="data")
    with mlflow.start_run(run_name="child", nested=True) as child:
        mlflow.log_param("alpha", 0.1)
        mlflow.log_metric("rmse", 6.0)
    REQ = ["scikit-learn"]  # named: MLflow's inference reloads the model in a subprocess
    if int(mlflow.__version__.split(".")[0]) >= 3:
        info = mlflow.sklearn.log_model(
            model, name="model", input_example=X[:2], pip_requirements=REQ
        )
    else:
        info = mlflow.sklearn.log_model(model, "model", input_example=X[:2], pip_requirements=REQ)
    parent_id = parent.info.run_id

out["parent_id"] = parent_id
out["child_parent_tag"] = client.get_run(child.info.run_id).data.tags.get("mlflow.parentRunId")
run = client.get_run(parent_id)
out["status"] = run.info.status
out["params"] = run.data.params
out["metrics"] = run.data.metrics
out["tags"] = {k: v for k, v in run.data.tags.items() if not k.startswith("mlflow.log-model")}
out["history"] = [(m.step, m.value) for m in client.get_metric_history(parent_id, "rmse")]
out["artifacts_root"] = sorted(f.path for f in client.list_artifacts(parent_id))
out["artifacts_data"] = sorted(f.path for f in client.list_artifacts(parent_id, "data"))
with tempfile.TemporaryDirectory() as tmp:
    local = client.download_artifacts(parent_id, "notes/note.txt", tmp)
    out["downloaded"] = Path(local).read_text()

found = client.search_runs(
    experiment_ids=[exp.experiment_id],
    filter_string="metrics.rmse < 6.8 and params.alpha = '0.01'",
    run_view_type=ViewType.ACTIVE_ONLY,
    max_results=5,
    order_by=["metrics.rmse ASC"],
)
out["search_ids"] = [r.info.run_id for r in found]
ordered = client.search_runs([exp.experiment_id], order_by=["metrics.rmse DESC"], max_results=1)
out["search_top_desc"] = ordered[0].info.run_id

client.delete_run(child.info.run_id)
out["after_delete"] = len(client.search_runs([exp.experiment_id]))
out["deleted_only"] = len(
    client.search_runs([exp.experiment_id], run_view_type=ViewType.DELETED_ONLY)
)
client.restore_run(child.info.run_id)
out["after_restore"] = len(client.search_runs([exp.experiment_id]))

loaded = mlflow.pyfunc.load_model(f"runs:/{parent_id}/model")
out["prediction"] = [float(v) for v in np.asarray(loaded.predict(X[:5])).ravel()]
out["expected"] = [float(v) for v in model.predict(X[:5])]

json.dump(out, sys.stdout)
