"""Run by the OFFICIAL mlflow client: everything it sees in a tracking server or store, as JSON.

Used on both sides of an import (the MLflow source, then the Modelyard server) so the test can
compare them. Artifact locations are reported apart, since an import rewrites them.
Argument: the registered model name whose stages and aliases are loaded and predicted with.
"""

import json
import math
import sys

import mlflow
from mlflow.entities import ViewType
from mlflow.tracking import MlflowClient

PROBE = [[1.0, 2.0], [0.5, -1.0]]


def value(number):
    return "nan" if isinstance(number, float) and math.isnan(number) else number


def snapshot(model_name):
    """Everything the client sees, with ``model_name``'s stages and aliases loaded."""
    client = MlflowClient()
    out = {"experiments": {}, "runs": {}, "locations": {}, "logged_models": {}}
    experiments = client.search_experiments(view_type=ViewType.ALL)
    for exp in experiments:
        out["experiments"][exp.experiment_id] = {
            "name": exp.name,
            "lifecycle_stage": exp.lifecycle_stage,
            "tags": exp.tags,
            "creation_time": exp.creation_time,
        }
        out["locations"][exp.experiment_id] = exp.artifact_location
    ids = [exp.experiment_id for exp in experiments]
    for run in client.search_runs(ids, run_view_type=ViewType.ALL, max_results=1000):
        info = run.info
        histories = {
            key: [
                (m.step, m.timestamp, value(m.value))
                for m in client.get_metric_history(info.run_id, key)
            ]
            for key in run.data.metrics
        }
        out["runs"][info.run_id] = {
            "experiment_id": info.experiment_id,
            "run_name": info.run_name,
            "status": info.status,
            "start_time": info.start_time,
            "end_time": info.end_time,
            "user_id": info.user_id,
            "lifecycle_stage": info.lifecycle_stage,
            "params": run.data.params,
            "tags": run.data.tags,
            "metrics": {k: value(v) for k, v in run.data.metrics.items()},
            "histories": histories,
            "datasets": sorted(
                [
                    d.dataset.name,
                    d.dataset.digest,
                    d.dataset.source_type,
                    d.dataset.source,
                    d.dataset.schema,
                    d.dataset.profile,
                    sorted((t.key, t.value) for t in d.tags),
                ]
                for d in run.inputs.dataset_inputs
            ),
            "model_inputs": sorted(
                m.model_id for m in (getattr(run.inputs, "model_inputs", None) or [])
            ),
            "model_outputs": sorted(
                (m.model_id, m.step)
                for m in ((getattr(run, "outputs", None) and run.outputs.model_outputs) or [])
            ),
        }
        out["locations"][info.run_id] = info.artifact_uri
    # MLflow 2 has no logged models (nor run model inputs and outputs)
    logged = (
        client.search_logged_models(experiment_ids=ids)
        if hasattr(client, "search_logged_models")
        else []
    )
    for model in logged:
        out["logged_models"][model.model_id] = {
            "name": model.name,
            "experiment_id": model.experiment_id,
            "source_run_id": model.source_run_id,
            "status": str(model.status),
            "params": model.params,
            "tags": model.tags,
            "metrics": sorted(
                (m.key, m.value, m.step, m.timestamp, m.run_id) for m in model.metrics or []
            ),
            "creation_timestamp": model.creation_timestamp,
            "last_updated_timestamp": model.last_updated_timestamp,
        }
        out["locations"][model.model_id] = model.artifact_location

    out["registered_models"] = {
        m.name: {
            "description": m.description,
            "tags": m.tags,
            "aliases": m.aliases,
            "creation_timestamp": m.creation_timestamp,
            "last_updated_timestamp": m.last_updated_timestamp,
        }
        for m in client.search_registered_models()
    }
    out["versions"] = {
        v.version: {
            "stage": v.current_stage,
            "description": v.description,
            "tags": v.tags,
            "source": v.source,
            "run_id": v.run_id,
            "status": v.status,
            "aliases": sorted(v.aliases),
            "creation_timestamp": v.creation_timestamp,
            "last_updated_timestamp": v.last_updated_timestamp,
        }
        for v in client.search_model_versions(f"name='{model_name}'")
    }
    for uri in (
        f"models:/{model_name}/Production",
        f"models:/{model_name}/Staging",
        f"models:/{model_name}@champion",
        f"models:/{model_name}@challenger",
    ):
        out[uri] = mlflow.pyfunc.load_model(uri).predict(PROBE).tolist()
    parent = next(r for r, d in out["runs"].items() if d["run_name"] == "parent")
    out["parent_artifacts"] = sorted(a.path for a in client.list_artifacts(parent))
    out["readme"] = mlflow.artifacts.load_text(f"runs:/{parent}/notes/readme.txt")
    return out


if __name__ == "__main__":
    json.dump(snapshot(sys.argv[1]), sys.stdout, default=str)
    print()
