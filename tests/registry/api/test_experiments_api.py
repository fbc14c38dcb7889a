"""Experiments REST API on every engine, in MLflow's wire format."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

API = "/api/2.0/mlflow/experiments"


def _create(client: FlaskClient, name: str, **extra: Any) -> str:
    response = client.post(f"{API}/create", json={"name": name, **extra})
    assert response.status_code == 200, response.json
    experiment_id = response.json["experiment_id"]
    assert isinstance(experiment_id, str)
    return str(experiment_id)


def test_create_get_and_get_by_name(client: FlaskClient) -> None:
    experiment_id = _create(client, "taxi", tags=[{"key": "team", "value": "ml"}])
    by_id = client.get(f"{API}/get", query_string={"experiment_id": experiment_id}).json
    by_name = client.get(f"{API}/get-by-name", query_string={"experiment_name": "taxi"}).json
    assert by_id == by_name
    experiment = by_id["experiment"]
    assert set(experiment) == {
        "experiment_id",
        "name",
        "artifact_location",
        "lifecycle_stage",
        "creation_time",
        "last_update_time",
        "tags",
    }
    assert experiment["artifact_location"] == f"mlflow-artifacts:/{experiment_id}"
    assert experiment["tags"] == [{"key": "team", "value": "ml"}]
    assert isinstance(experiment["creation_time"], int)


def test_default_experiment_and_missing_name(sqlite_client: FlaskClient) -> None:
    default = sqlite_client.get(f"{API}/get", query_string={"experiment_id": "0"}).json[
        "experiment"
    ]
    assert (default["name"], default["experiment_id"]) == ("Default", "0")
    assert "tags" not in default
    missing = sqlite_client.get(f"{API}/get-by-name", query_string={"experiment_name": "nope"})
    assert missing.status_code == 404
    assert missing.json["error_code"] == "RESOURCE_DOES_NOT_EXIST"


def test_duplicate_name(client: FlaskClient) -> None:
    _create(client, "taxi")
    response = client.post(f"{API}/create", json={"name": "taxi"})
    assert (response.status_code, response.json["error_code"]) == (400, "RESOURCE_ALREADY_EXISTS")


def test_delete_restore_rename_and_tags(sqlite_client: FlaskClient) -> None:
    experiment_id = _create(sqlite_client, "taxi")
    assert sqlite_client.post(f"{API}/delete", json={"experiment_id": experiment_id}).json == {}
    deleted = sqlite_client.get(f"{API}/get-by-name", query_string={"experiment_name": "taxi"}).json
    assert deleted["experiment"]["lifecycle_stage"] == "deleted"
    run = sqlite_client.post("/api/2.0/mlflow/runs/create", json={"experiment_id": experiment_id})
    assert (run.status_code, run.json["error_code"]) == (400, "INVALID_PARAMETER_VALUE")
    assert sqlite_client.post(f"{API}/restore", json={"experiment_id": experiment_id}).json == {}
    body = {"experiment_id": experiment_id, "new_name": "renamed"}
    assert sqlite_client.post(f"{API}/update", json=body).json == {}
    tag = {"experiment_id": experiment_id, "key": "k", "value": "v"}
    assert sqlite_client.post(f"{API}/set-experiment-tag", json=tag).json == {}
    experiment = sqlite_client.get(f"{API}/get", query_string={"experiment_id": experiment_id}).json
    assert experiment["experiment"]["name"] == "renamed"
    assert experiment["experiment"]["tags"] == [{"key": "k", "value": "v"}]
    untag = {"experiment_id": experiment_id, "key": "k"}
    assert sqlite_client.post(f"{API}/delete-experiment-tag", json=untag).json == {}


def test_search_pages_with_token_only_when_more(client: FlaskClient) -> None:
    for index in range(3):
        _create(client, f"exp-{index}")
    names: list[str] = []
    token = None
    pages = 0
    while True:
        body: dict[str, Any] = {"max_results": 2, "view_type": "ACTIVE_ONLY"}
        if token:
            body["page_token"] = token
        page = client.post(f"{API}/search", json=body).json
        names.extend(e["name"] for e in page["experiments"])
        pages += 1
        token = page.get("next_page_token")
        if not token:
            break
    assert pages == 2
    assert sorted(names) == ["Default", "exp-0", "exp-1", "exp-2"]
    by_get = client.get(f"{API}/search", query_string={"filter": "name = 'exp-1'"}).json
    assert [e["name"] for e in by_get["experiments"]] == ["exp-1"]
    assert "next_page_token" not in by_get
    empty = client.post(f"{API}/search", json={"filter": "name = 'none'"}).json
    assert empty == {}
