"""Runs REST API on every engine: shapes, validation, batches, inputs and outputs."""

from __future__ import annotations

import json
import re
from typing import Any

from flask.testing import FlaskClient

API = "/api/2.0/mlflow"


def _run(client: FlaskClient, **body: Any) -> dict[str, Any]:
    response = client.post(f"{API}/runs/create", json={"experiment_id": "0", **body})
    assert response.status_code == 200, response.json
    run: dict[str, Any] = response.json["run"]
    return run


def _get(client: FlaskClient, run_id: str) -> dict[str, Any]:
    run: dict[str, Any] = client.get(f"{API}/runs/get", query_string={"run_uuid": run_id}).json[
        "run"
    ]
    return run


def test_create_shape_and_invented_name(sqlite_client: FlaskClient) -> None:
    tags = [{"key": "mlflow.user", "value": "root"}]
    run = _run(sqlite_client, user_id="root", start_time=1795367918251, tags=tags)
    info = run["info"]
    assert re.fullmatch(r"[0-9a-f]{32}", info["run_id"])
    assert info["run_uuid"] == info["run_id"]
    assert re.fullmatch(r"[a-z]+-[a-z]+-\d+", info["run_name"])
    assert info["artifact_uri"] == f"mlflow-artifacts:/0/{info['run_id']}/artifacts"
    assert (info["status"], info["lifecycle_stage"], info["experiment_id"]) == (
        "RUNNING",
        "active",
        "0",
    )
    assert "end_time" not in info
    assert {"key": "mlflow.runName", "value": info["run_name"]} in run["data"]["tags"]
    assert run["inputs"] == {}
    assert "metrics" not in run["data"]
    assert _get(sqlite_client, info["run_id"]) == run


def test_update_returns_run_info_and_renames(sqlite_client: FlaskClient) -> None:
    run_id = _run(sqlite_client, run_name="first")["info"]["run_id"]
    body = {"run_id": run_id, "status": "FINISHED", "end_time": 5, "run_name": "second"}
    info = sqlite_client.post(f"{API}/runs/update", json=body).json["run_info"]
    assert (info["status"], info["end_time"], info["run_name"]) == ("FINISHED", 5, "second")
    tags = _get(sqlite_client, run_id)["data"]["tags"]
    assert {"key": "mlflow.runName", "value": "second"} in tags


def test_param_overwrite_is_400_and_keeps_the_first(client: FlaskClient) -> None:
    run_id = _run(client)["info"]["run_id"]
    first = {"run_id": run_id, "key": "alpha", "value": "0.1"}
    assert client.post(f"{API}/runs/log-parameter", json=first).json == {}
    assert client.post(f"{API}/runs/log-parameter", json=first).status_code == 200
    changed = client.post(f"{API}/runs/log-parameter", json={**first, "value": "0.2"})
    assert (changed.status_code, changed.json["error_code"]) == (400, "INVALID_PARAMETER_VALUE")
    assert _get(client, run_id)["data"]["params"] == [{"key": "alpha", "value": "0.1"}]


def test_log_batch_is_all_or_nothing(client: FlaskClient) -> None:
    run_id = _run(client)["info"]["run_id"]
    client.post(f"{API}/runs/log-parameter", json={"run_id": run_id, "key": "p", "value": "1"})
    body = {
        "run_id": run_id,
        "metrics": [{"key": "m", "value": 1.0, "timestamp": 1, "step": s} for s in range(10)],
        "params": [{"key": "q", "value": "1"}, {"key": "p", "value": "2"}],
        "tags": [{"key": "t", "value": "v"}],
    }
    response = client.post(f"{API}/runs/log-batch", json=body)
    assert response.status_code == 400
    data = _get(client, run_id)["data"]
    assert "metrics" not in data
    assert data["params"] == [{"key": "p", "value": "1"}]
    body["params"] = [{"key": "q", "value": "1"}]
    assert client.post(f"{API}/runs/log-batch", json=body).json == {}
    data = _get(client, run_id)["data"]
    assert data["metrics"] == [{"key": "m", "value": 1.0, "timestamp": 1, "step": 9}]
    too_many = {"run_id": run_id, "params": [{"key": f"k{i}", "value": "v"} for i in range(101)]}
    assert client.post(f"{API}/runs/log-batch", json=too_many).status_code == 400


def test_deleted_run_rejects_writes_and_restores(client: FlaskClient) -> None:
    run_id = _run(client)["info"]["run_id"]
    assert client.post(f"{API}/runs/delete", json={"run_id": run_id}).json == {}
    assert _get(client, run_id)["info"]["lifecycle_stage"] == "deleted"
    metric = {"run_id": run_id, "key": "m", "value": 1, "timestamp": 1}
    response = client.post(f"{API}/runs/log-metric", json=metric)
    assert response.status_code == 400
    assert "active" in response.json["message"]
    assert client.post(f"{API}/runs/restore", json={"run_id": run_id}).json == {}
    assert client.post(f"{API}/runs/log-metric", json=metric).status_code == 200


def test_tags_set_and_delete(sqlite_client: FlaskClient) -> None:
    run_id = _run(sqlite_client)["info"]["run_id"]
    tag = {"run_id": run_id, "run_uuid": run_id, "key": "developer", "value": "ana"}
    assert sqlite_client.post(f"{API}/runs/set-tag", json=tag).json == {}
    assert {"key": "developer", "value": "ana"} in _get(sqlite_client, run_id)["data"]["tags"]
    untag = {"run_id": run_id, "key": "developer"}
    assert sqlite_client.post(f"{API}/runs/delete-tag", json=untag).json == {}
    assert sqlite_client.post(f"{API}/runs/delete-tag", json=untag).status_code == 404


def test_inputs_and_outputs(sqlite_client: FlaskClient) -> None:
    run_id = _run(sqlite_client)["info"]["run_id"]
    model = sqlite_client.post(f"{API}/logged-models", json={"experiment_id": "0", "name": "model"})
    model_id = model.json["model"]["info"]["model_id"]
    dataset = {
        "name": "dataset",
        "digest": "d29add0c",
        "source_type": "code",
        "source": "{}",
        "schema": '{"mlflow_colspec": []}',
        "profile": '{"num_rows": 200}',
    }
    inputs = {
        "run_id": run_id,
        "datasets": [
            {"tags": [{"key": "mlflow.data.context", "value": "train"}], "dataset": dataset}
        ],
        "models": [{"model_id": model_id}],
    }
    assert sqlite_client.post(f"{API}/runs/log-inputs", json=inputs).json == {}
    outputs = {"run_id": run_id, "models": [{"model_id": model_id, "step": 0}]}
    assert sqlite_client.post(f"{API}/runs/outputs", json=outputs).json == {}
    run = _get(sqlite_client, run_id)
    assert run["inputs"]["dataset_inputs"] == [
        {"dataset": dataset, "tags": [{"key": "mlflow.data.context", "value": "train"}]}
    ]
    assert run["inputs"]["model_inputs"] == [{"model_id": model_id}]
    assert run["outputs"] == {"model_outputs": [{"model_id": model_id, "step": 0}]}


def test_search_filters_orders_and_pages(client: FlaskClient) -> None:
    experiment_id = client.post(f"{API}/experiments/create", json={"name": "s"}).json[
        "experiment_id"
    ]
    for index in range(5):
        run_id = _run(client, experiment_id=experiment_id, run_name=f"r{index}")["info"]["run_id"]
        batch = {
            "run_id": run_id,
            "metrics": [{"key": "rmse", "value": float(index), "timestamp": 1}],
            "params": [{"key": "model", "value": "ridge" if index % 2 else "lasso"}],
        }
        client.post(f"{API}/runs/log-batch", json=batch)
    body: dict[str, Any] = {
        "experiment_ids": [experiment_id],
        "filter": "metrics.rmse >= 1 AND params.model = 'ridge'",
        "order_by": ["metrics.rmse DESC"],
        "max_results": 1,
    }
    first = client.post(f"{API}/runs/search", json=body).json
    second = client.post(
        f"{API}/runs/search", json={**body, "page_token": first["next_page_token"]}
    ).json
    assert [r["info"]["run_name"] for r in first["runs"] + second["runs"]] == ["r3", "r1"]
    assert "next_page_token" not in second
    assert second["runs"][0]["data"]["metrics"][0]["value"] == 1.0
    bad = client.post(f"{API}/runs/search", json={**body, "filter": "metrics.rmse > 'x'"})
    assert (bad.status_code, bad.json["error_code"]) == (400, "INVALID_PARAMETER_VALUE")


def test_log_model_appends_to_history_tag(sqlite_client: FlaskClient) -> None:
    run_id = _run(sqlite_client)["info"]["run_id"]
    for path in ("model", "other"):
        body = {"run_id": run_id, "model_json": json.dumps({"artifact_path": path})}
        assert sqlite_client.post(f"{API}/runs/log-model", json=body).json == {}
    tags = {t["key"]: t["value"] for t in _get(sqlite_client, run_id)["data"]["tags"]}
    history = json.loads(tags["mlflow.log-model.history"])
    assert [m["artifact_path"] for m in history] == ["model", "other"]
    bad = {"run_id": run_id, "model_json": "[1]"}
    assert sqlite_client.post(f"{API}/runs/log-model", json=bad).status_code == 400
