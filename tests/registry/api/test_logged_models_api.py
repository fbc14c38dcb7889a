"""Logged models REST API on every engine: the calls MLflow 3's log_model makes, in order."""

from __future__ import annotations

import re
from typing import Any

from flask.testing import FlaskClient

API = "/api/2.0/mlflow"


def test_log_model_flow(client: FlaskClient) -> None:
    run = client.post(f"{API}/runs/create", json={"experiment_id": "0"}).json["run"]["info"]
    run_id = run["run_id"]
    client.post(
        f"{API}/runs/log-metric",
        json={"run_id": run_id, "key": "rmse", "value": 5.5, "timestamp": 1, "step": 0},
    )
    create = {
        "experiment_id": "0",
        "name": "model",
        "source_run_id": run_id,
        "params": [{"key": "alpha", "value": "0.1"}],
        "tags": [{"key": "mlflow.user", "value": "root"}],
    }
    model = client.post(f"{API}/logged-models", json=create).json["model"]
    info = model["info"]
    model_id = info["model_id"]
    assert re.fullmatch(r"m-[0-9a-f]{32}", model_id)
    assert info["artifact_uri"] == f"mlflow-artifacts:/0/models/{model_id}/artifacts"
    assert (info["status"], info["model_type"], info["source_run_id"]) == (
        "LOGGED_MODEL_PENDING",
        "",
        run_id,
    )
    assert model["data"] == {"params": [{"key": "alpha", "value": "0.1"}]}
    outputs = {"run_id": run_id, "models": [{"model_id": model_id, "step": 0}]}
    assert client.post(f"{API}/runs/outputs", json=outputs).json == {}
    metric = {"key": "rmse", "value": 5.5, "timestamp": 1, "step": 0, "model_id": model_id}
    client.post(f"{API}/runs/log-batch", json={"run_id": run_id, "metrics": [metric]})
    got = client.get(f"{API}/logged-models/{model_id}").json["model"]
    assert got["data"]["metrics"] == [{**metric, "run_id": run_id}]
    ready = {"model_id": model_id, "status": "LOGGED_MODEL_READY"}
    final = client.patch(f"{API}/logged-models/{model_id}", json=ready).json["model"]
    assert final["info"]["status"] == "LOGGED_MODEL_READY"
    tags = {"tags": [{"key": "mlflow.modelVersions", "value": "[]"}]}
    assert client.patch(f"{API}/logged-models/{model_id}/tags", json=tags).json == {}
    params = {"model_id": model_id, "params": [{"key": "beta", "value": "2"}]}
    assert client.post(f"{API}/logged-models/{model_id}/params", json=params).json == {}
    found = client.post(
        f"{API}/logged-models/search",
        json={"experiment_ids": ["0"], "filter": "name = 'model'"},
    ).json["models"]
    assert [m["info"]["model_id"] for m in found] == [model_id]
    assert {"key": "mlflow.modelVersions", "value": "[]"} in found[0]["info"]["tags"]
    untag = client.delete(f"{API}/logged-models/{model_id}/tags/mlflow.modelVersions")
    assert untag.json == {}


def test_delete_and_unknown(client: FlaskClient) -> None:
    model_id = client.post(f"{API}/logged-models", json={"experiment_id": "0"}).json["model"][
        "info"
    ]["model_id"]
    assert client.delete(f"{API}/logged-models/{model_id}").json == {}
    gone = client.get(f"{API}/logged-models/{model_id}")
    assert (gone.status_code, gone.json["error_code"]) == (404, "RESOURCE_DOES_NOT_EXIST")
    empty: dict[str, Any] = client.post(
        f"{API}/logged-models/search", json={"experiment_ids": ["0"]}
    ).json
    assert empty == {}


def test_artifact_directories(sqlite_client: FlaskClient, artifact_root: Any) -> None:
    info = sqlite_client.post(f"{API}/logged-models", json={"experiment_id": "0"}).json["model"][
        "info"
    ]
    folder = artifact_root / "0" / "models" / info["model_id"] / "artifacts"
    folder.mkdir(parents=True)
    (folder / "MLmodel").write_text("flavors: {}\n")
    listing = sqlite_client.get(
        f"{API}/logged-models/{info['model_id']}/artifacts/directories"
    ).json
    assert listing["files"] == [{"path": "MLmodel", "is_dir": False, "file_size": 12}]


def _ordered_names(client: FlaskClient, field_name: str, ascending: bool) -> list[str]:
    order = [{"field_name": field_name, "ascending": ascending}]
    reply = client.post(
        f"{API}/logged-models/search", json={"experiment_ids": ["0"], "order_by": order}
    )
    assert reply.status_code == 200, reply.json
    return [model["info"]["name"] for model in reply.json["models"]]


def test_search_orders_by_params_and_tags(client: FlaskClient) -> None:
    for name, value in (("middle", "b"), ("first", "a"), ("last", "c"), ("none", None)):
        entries = [] if value is None else [{"key": "alpha", "value": value}]
        body = {"experiment_id": "0", "name": name, "params": entries, "tags": entries}
        assert client.post(f"{API}/logged-models", json=body).status_code == 200
    for field_name in ("params.alpha", "tags.alpha"):
        assert _ordered_names(client, field_name, True) == ["first", "middle", "last", "none"]
        assert _ordered_names(client, field_name, False) == ["last", "middle", "first", "none"]
