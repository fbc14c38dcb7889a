from __future__ import annotations

import base64
import time

import pytest

from tests.registry_factories import (
    API,
    OURS,
    create_model,
    create_version,
    get_model,
    make_run,
    set_alias,
    transition,
)

HIST = f"{OURS}/registered-models/history"
ROLLBACK = f"{OURS}/registered-models/rollback"
HOLDERS = f"{OURS}/registered-models/holders"


def _stage_of(client, version):
    response = client.get(
        f"{API}/model-versions/get", query_string={"name": "m1", "version": version}
    )
    return response.json["model_version"]["current_stage"]


def test_every_change_is_recorded_newest_first_with_user_and_comment(client):
    create_model(client)
    create_version(client)
    create_version(client)
    headers = {"X-Modelyard-User": "ana"}
    body = {"name": "m1", "version": "1", "stage": "Production", "comment": "go"}
    client.post(f"{API}/model-versions/transition-stage", json=body, headers=headers)
    transition(client, "2", "Production", archive=True)
    set_alias(client, "champion", "1")
    set_alias(client, "champion", "2")
    client.delete(f"{API}/registered-models/alias", json={"name": "m1", "alias": "champion"})
    entries = client.get(HIST, query_string={"name": "m1"}).json["transitions"]
    summary = [(e["kind"], e["version"], e["from"], e["to"], e.get("alias")) for e in entries]
    assert summary == [
        ("alias", "2", "2", "", "champion"),
        ("alias", "2", "1", "2", "champion"),
        ("alias", "1", "", "1", "champion"),
        ("stage", "2", "None", "Production", None),
        ("stage", "1", "Production", "Archived", None),
        ("stage", "1", "None", "Production", None),
    ]
    assert entries[-1]["user_id"] == "ana" and entries[-1]["comment"] == "go"


def test_history_pages(sqlite_client):
    create_model(sqlite_client)
    create_version(sqlite_client)
    for stage in ("Staging", "Production", "Archived", "Staging", "Production"):
        transition(sqlite_client, "1", stage)
    first = sqlite_client.get(HIST, query_string={"name": "m1", "max_results": 2}).json
    assert [e["to"] for e in first["transitions"]] == ["Production", "Staging"]
    token = first["next_page_token"]
    rest = sqlite_client.get(
        HIST, query_string={"name": "m1", "max_results": 10, "page_token": token}
    ).json
    assert [e["to"] for e in rest["transitions"]] == ["Archived", "Production", "Staging"]
    assert "next_page_token" not in rest
    bad = sqlite_client.get(HIST, query_string={"name": "m1", "page_token": "%%%"})
    assert bad.status_code == 400
    assert sqlite_client.get(HIST, query_string={"name": "nope"}).status_code == 404


def test_stage_rollback_walks_back_and_is_recorded(client):
    create_model(client, exclusive_stages=True)
    for _ in range(3):
        create_version(client)
    for version in "123":
        transition(client, version, "Production")
    response = client.post(ROLLBACK, json={"name": "m1", "stage": "production", "comment": "bad"})
    assert response.status_code == 200
    recorded = response.json["transitions"]
    assert {e["rollback_of"] for e in recorded} == {recorded[0]["rollback_of"]}
    assert [(e["version"], e["to"]) for e in recorded] == [("3", "None"), ("2", "Production")]
    assert (_stage_of(client, "2"), _stage_of(client, "3")) == ("Production", "None")

    client.post(ROLLBACK, json={"name": "m1", "stage": "Production"})
    assert [_stage_of(client, v) for v in "123"] == ["Production", "None", "None"]


def test_alias_rollback_restores_previous_version_and_deletion(client):
    create_model(client)
    create_version(client)
    create_version(client)
    set_alias(client, "champion", "1")
    set_alias(client, "champion", "2")
    client.post(ROLLBACK, json={"name": "m1", "alias": "champion"})
    assert get_model(client)["aliases"] == [{"alias": "champion", "version": "1"}]
    client.post(ROLLBACK, json={"name": "m1", "alias": "champion"})
    assert "aliases" not in get_model(client)
    response = client.post(ROLLBACK, json={"name": "m1", "alias": "champion"})
    assert response.status_code == 409
    assert response.json["error_code"] == "INVALID_STATE"


@pytest.mark.parametrize(
    "body",
    [
        {"name": "m1"},
        {"name": "m1", "stage": "Production", "alias": "a"},
        {"name": "m1", "stage": "Prod"},
        {"name": "m1", "stage": "Archived"},
        {"name": "m1", "alias": "latest"},
    ],
)
def test_bad_rollback_requests_are_400_and_change_nothing(sqlite_client, body):
    create_model(sqlite_client)
    create_version(sqlite_client)
    transition(sqlite_client, "1", "Production")
    response = sqlite_client.post(ROLLBACK, json=body)
    assert response.status_code == 400
    assert _stage_of(sqlite_client, "1") == "Production"
    entries = sqlite_client.get(HIST, query_string={"name": "m1"}).json["transitions"]
    assert len(entries) == 1


def test_holders_at_a_time(sqlite_client):
    create_model(sqlite_client)
    create_version(sqlite_client)
    create_version(sqlite_client)
    transition(sqlite_client, "1", "Production")
    set_alias(sqlite_client, "champion", "1")
    time.sleep(0.01)
    middle = int(time.time() * 1000)
    time.sleep(0.01)
    transition(sqlite_client, "2", "Production", archive=True)
    set_alias(sqlite_client, "champion", "2")

    def holders(**query):
        return sqlite_client.get(HOLDERS, query_string={"name": "m1", **query}).json["versions"]

    assert holders(stage="Production", at=middle) == ["1"]
    assert holders(alias="champion", at=middle) == ["1"]
    assert holders(stage="Production") == ["2"]
    assert holders(alias="champion") == ["2"]
    assert holders(stage="Production", at=0) == []
    assert sqlite_client.get(HOLDERS, query_string={"name": "m1"}).status_code == 400


def test_deleting_a_version_records_its_alias_removal(sqlite_client):
    create_model(sqlite_client)
    create_version(sqlite_client)
    set_alias(sqlite_client, "champion", "1")
    sqlite_client.delete(f"{API}/model-versions/delete", json={"name": "m1", "version": "1"})
    [latest, *_] = sqlite_client.get(HIST, query_string={"name": "m1"}).json["transitions"]
    assert (latest["alias"], latest["from"], latest["to"]) == ("champion", "1", "")


def test_lineage_and_versions_by_run(client):
    run = make_run(
        params={"alpha": "0.01"},
        tags={"mlflow.source.git.commit": "abc123", "mlflow.source.name": "train.py"},
        metrics={"rmse": 6.5},
        dataset="taxi",
    )
    create_model(client)
    create_version(client, source=f"runs:/{run.run_uuid}/model", run_id=run.run_uuid)
    create_version(client)
    response = client.get(
        f"{OURS}/model-versions/lineage", query_string={"name": "m1", "version": "1"}
    )
    body = response.json
    assert body["git_commit"] == "abc123" and body["source_name"] == "train.py"
    assert body["run"]["params"] == [{"key": "alpha", "value": "0.01"}]
    assert body["run"]["metrics"][0]["key"] == "rmse"
    assert body["run"]["dataset_inputs"][0]["dataset"]["name"] == "taxi"
    response = client.get(f"{OURS}/model-versions/by-run", query_string={"run_id": run.run_uuid})
    assert [v["version"] for v in response.json["model_versions"]] == ["1"]
    missing = client.get(
        f"{OURS}/model-versions/lineage", query_string={"name": "m1", "version": "5"}
    )
    assert missing.status_code == 404


def test_user_comes_from_basic_auth_when_no_header(sqlite_client):
    auth = {"Authorization": "Basic " + base64.b64encode(b"bob:secret").decode()}
    response = sqlite_client.post(
        f"{API}/registered-models/create", json={"name": "m1"}, headers=auth
    )
    assert response.json["registered_model"]["user_id"] == "bob"
    create_version(sqlite_client)
    body = {"name": "m1", "alias": "champion", "version": "1"}
    sqlite_client.post(f"{API}/registered-models/alias", json=body, headers=auth)
    [entry] = sqlite_client.get(HIST, query_string={"name": "m1"}).json["transitions"]
    assert entry["user_id"] == "bob"
