"""The lineage answer, field by field: what the API and the version page have always shown."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from tests.registry_factories import API, OURS


def _post(client: FlaskClient, path: str, body: dict[str, Any]) -> Any:
    response = client.post(f"{API}/{path}", json=body)
    assert response.status_code == 200, response.json
    return response.json


def test_lineage_keeps_empty_lists_and_leaves_dataset_schema_out(
    sqlite_client: FlaskClient,
) -> None:
    exp = _post(sqlite_client, "experiments/create", {"name": "e"})["experiment_id"]
    run = _post(
        sqlite_client, "runs/create", {"experiment_id": exp, "run_name": "r", "start_time": 7}
    )["run"]["info"]["run_id"]
    _post(
        sqlite_client,
        "runs/log-batch",
        {"run_id": run, "metrics": [{"key": "loss", "value": "NaN", "timestamp": 5, "step": 1}]},
    )
    dataset = {"name": "d", "digest": "x", "source_type": "local", "source": "s"}
    _post(
        sqlite_client,
        "runs/log-inputs",
        {"run_id": run, "datasets": [{"dataset": {**dataset, "schema": "{}", "profile": "{}"}}]},
    )
    model = _post(sqlite_client, "logged-models", {"experiment_id": exp, "name": "bare"})
    model_id = model["model"]["info"]["model_id"]
    _post(sqlite_client, "registered-models/create", {"name": "rm"})
    source = f"runs:/{run}/model"
    version = {"name": "rm", "source": source, "run_id": run, "model_id": model_id}
    _post(sqlite_client, "model-versions/create", version)
    tag = f"{API}/logged-models/{model_id}/tags/mlflow.modelVersions"
    assert sqlite_client.delete(tag).status_code == 200

    body = sqlite_client.get(
        f"{OURS}/model-versions/lineage", query_string={"name": "rm", "version": "1"}
    ).json

    lineage_run = body["run"]
    assert (lineage_run["start_time"], lineage_run["end_time"]) == (7, None)
    assert lineage_run["params"] == []
    assert lineage_run["metrics"] == [{"key": "loss", "value": "NaN", "timestamp": 5, "step": 1}]
    assert lineage_run["dataset_inputs"] == [{"dataset": dataset, "tags": []}]
    assert "run_uuid" not in lineage_run
    assert body["logged_model"] == {
        "model_id": model_id,
        "experiment_id": exp,
        "name": "bare",
        "artifact_uri": f"mlflow-artifacts:/{exp}/models/{model_id}/artifacts",
        "status": "LOGGED_MODEL_PENDING",
        "source_run_id": "",
        "tags": [],
    }
