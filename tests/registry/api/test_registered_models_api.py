from __future__ import annotations

import pytest

from tests.registry_factories import (
    API,
    OURS,
    create_model,
    create_version,
    get_model,
    set_alias,
    transition,
)

RM = f"{API}/registered-models"


def test_create_get_update_rename_delete(client):
    created = create_model(client, "m1", description="first", tags=[{"key": "team", "value": "a"}])
    assert created["name"] == "m1" and created["description"] == "first"
    assert created["tags"] == [{"key": "team", "value": "a"}]

    response = client.patch(f"{RM}/update", json={"name": "m1", "description": "second"})
    assert response.json["registered_model"]["description"] == "second"

    response = client.post(f"{RM}/rename", json={"name": "m1", "new_name": "m2"})
    assert response.status_code == 200 and response.json["registered_model"]["name"] == "m2"
    assert client.get(f"{RM}/get", query_string={"name": "m1"}).status_code == 404
    assert get_model(client, "m2")["description"] == "second"

    assert client.delete(f"{RM}/delete", json={"name": "m2"}).json == {}
    response = client.get(f"{RM}/get", query_string={"name": "m2"})
    assert response.status_code == 404
    assert response.json["error_code"] == "RESOURCE_DOES_NOT_EXIST"


def test_duplicate_names_are_rejected_and_change_nothing(client):
    create_model(client, "m1", description="kept")
    create_model(client, "other")
    response = client.post(f"{RM}/create", json={"name": "m1", "description": "new"})
    assert response.status_code == 400
    assert response.json["error_code"] == "RESOURCE_ALREADY_EXISTS"
    response = client.post(f"{RM}/rename", json={"name": "other", "new_name": "m1"})
    assert response.json["error_code"] == "RESOURCE_ALREADY_EXISTS"
    assert get_model(client, "m1")["description"] == "kept"
    assert get_model(client, "other")["name"] == "other"


def test_latest_versions_and_aliases_on_get(client):
    create_model(client)
    for _ in range(4):
        create_version(client)
    transition(client, "1", "Production")
    transition(client, "2", "staging")
    transition(client, "3", "Staging")
    set_alias(client, "champion", "1")
    model = get_model(client)
    latest = {v["current_stage"]: v["version"] for v in model["latest_versions"]}
    assert latest == {"Production": "1", "Staging": "3", "None": "4"}
    assert model["aliases"] == [{"alias": "champion", "version": "1"}]

    for method in ("get", "post"):
        call = getattr(client, method)
        key = "query_string" if method == "get" else "json"
        response = call(
            f"{RM}/get-latest-versions", **{key: {"name": "m1", "stages": ["production"]}}
        )
        assert response.status_code == 200
        [version] = response.json["model_versions"]
        assert version["version"] == "1" and version["aliases"] == ["champion"]
        assert version["status"] == "READY"


def test_tags_set_overwrite_delete(client):
    create_model(client)
    client.post(f"{RM}/set-tag", json={"name": "m1", "key": "k", "value": "1"})
    client.post(f"{RM}/set-tag", json={"name": "m1", "key": "k", "value": "2"})
    assert get_model(client)["tags"] == [{"key": "k", "value": "2"}]
    assert client.delete(f"{RM}/delete-tag", json={"name": "m1", "key": "k"}).status_code == 200
    assert "tags" not in get_model(client)
    response = client.delete(f"{RM}/delete-tag", json={"name": "m1", "key": "k"})
    assert response.status_code == 404


def test_alias_set_move_get_delete(client):
    create_model(client)
    create_version(client)
    create_version(client)
    set_alias(client, "champion", "1")
    set_alias(client, "champion", "2")
    response = client.get(f"{RM}/alias", query_string={"name": "m1", "alias": "champion"})
    assert response.status_code == 200
    assert response.json["model_version"]["version"] == "2"
    assert response.json["model_version"]["aliases"] == ["champion"]
    assert client.delete(f"{RM}/alias", json={"name": "m1", "alias": "champion"}).json == {}
    response = client.get(f"{RM}/alias", query_string={"name": "m1", "alias": "champion"})
    assert response.status_code == 400
    assert response.json["error_code"] == "INVALID_PARAMETER_VALUE"
    assert response.json["message"] == "Registered model alias champion not found."


@pytest.mark.parametrize(
    ("alias", "version", "status"),
    [
        ("latest", "1", 400),
        ("LATEST", "1", 400),
        ("v3", "1", 400),
        ("V12", "1", 400),
        ("", "1", 400),
        ("a" * 257, "1", 400),
        ("bad alias", "1", 400),
        ("champion\n", "1", 400),
        ("v3\n", "1", 400),
        ("champion", "9", 404),
        ("champion", "x", 400),
    ],
)
def test_bad_alias_requests_change_nothing(sqlite_client, alias, version, status):
    create_model(sqlite_client)
    create_version(sqlite_client)
    set_alias(sqlite_client, "keep", "1")
    body = {"name": "m1", "alias": alias, "version": version}
    response = sqlite_client.post(f"{RM}/alias", json=body)
    assert response.status_code == status
    assert set(response.json) >= {"error_code", "message"}
    assert get_model(sqlite_client)["aliases"] == [{"alias": "keep", "version": "1"}]


def test_long_alias_at_the_limit_is_accepted(sqlite_client):
    create_model(sqlite_client)
    create_version(sqlite_client)
    set_alias(sqlite_client, "a" * 256, "1")
    assert get_model(sqlite_client)["aliases"][0]["alias"] == "a" * 256


@pytest.mark.parametrize(
    ("path", "method", "body"),
    [
        ("get", "get", {"name": "nope"}),
        ("update", "patch", {"name": "nope", "description": "x"}),
        ("rename", "post", {"name": "nope", "new_name": "x"}),
        ("delete", "delete", {"name": "nope"}),
        ("set-tag", "post", {"name": "nope", "key": "k", "value": "v"}),
        ("get-latest-versions", "post", {"name": "nope"}),
        ("alias", "post", {"name": "nope", "alias": "a", "version": "1"}),
        ("alias", "get", {"name": "nope", "alias": "a"}),
    ],
)
def test_unknown_model_is_404(sqlite_client, path, method, body):
    key = "query_string" if method == "get" else "json"
    response = getattr(sqlite_client, method)(f"{RM}/{path}", **{key: body})
    assert response.status_code == 404
    assert response.json["error_code"] == "RESOURCE_DOES_NOT_EXIST"


@pytest.mark.parametrize(
    "body",
    [{}, {"name": ""}, {"name": "a" * 257}, {"name": "a/b"}, {"name": "m", "tags": "x"}],
)
def test_invalid_create_is_400_and_creates_nothing(sqlite_client, body):
    response = sqlite_client.post(f"{RM}/create", json=body)
    assert response.status_code == 400
    assert response.json["error_code"] == "INVALID_PARAMETER_VALUE"
    assert sqlite_client.get(f"{RM}/get", query_string={"name": "m"}).status_code == 404


def test_bad_stage_in_latest_versions_is_400(sqlite_client):
    create_model(sqlite_client)
    response = sqlite_client.post(
        f"{RM}/get-latest-versions", json={"name": "m1", "stages": ["Prod"]}
    )
    assert response.status_code == 400
    assert "Invalid Model Version stage: Prod" in response.json["message"]


def test_exclusive_flag_on_create_and_our_endpoint(sqlite_client):
    assert create_model(sqlite_client, "ex", exclusive_stages=True)["exclusive_stages"] is True
    create_model(sqlite_client)
    create_version(sqlite_client)
    create_version(sqlite_client)
    transition(sqlite_client, "1", "Production")
    transition(sqlite_client, "2", "Production")
    url = f"{OURS}/registered-models/exclusive-stages"
    response = sqlite_client.post(url, json={"name": "m1", "exclusive_stages": True})
    assert response.status_code == 409
    assert response.json["error_code"] == "INVALID_STATE"
    assert get_model(sqlite_client)["exclusive_stages"] is False
    transition(sqlite_client, "1", "Archived")
    response = sqlite_client.post(url, json={"name": "m1", "exclusive_stages": True})
    assert response.status_code == 200 and response.json["registered_model"]["exclusive_stages"]


def test_search_filters_orders_and_pages(client):
    for name in ("beta", "alpha", "gamma"):
        create_model(client, name)
    client.post(f"{RM}/set-tag", json={"name": "gamma", "key": "team", "value": "x"})
    query = {"filter": "tag.`mlflow.prompt.is_prompt` != 'true'", "max_results": 2}
    first = client.get(f"{RM}/search", query_string=query).json
    assert [m["name"] for m in first["registered_models"]] == ["alpha", "beta"]
    query["page_token"] = first["next_page_token"]
    rest = client.get(f"{RM}/search", query_string=query).json
    assert [m["name"] for m in rest["registered_models"]] == ["gamma"]
    assert "next_page_token" not in rest
    found = client.get(f"{RM}/search", query_string={"filter": "tags.team = 'x'"}).json
    assert [m["name"] for m in found["registered_models"]] == ["gamma"]
    ordered = client.get(f"{RM}/search", query_string={"order_by": ["name DESC"]}).json
    assert [m["name"] for m in ordered["registered_models"]] == ["gamma", "beta", "alpha"]


@pytest.mark.parametrize(
    "query",
    [{"filter": "foo = 'x'"}, {"order_by": ["nope"]}, {"max_results": 0}, {"page_token": "!!"}],
)
def test_bad_search_is_400(sqlite_client, query):
    response = sqlite_client.get(f"{RM}/search", query_string=query)
    assert response.status_code == 400
    assert response.json["error_code"] == "INVALID_PARAMETER_VALUE"


def test_nul_bytes_are_400_on_every_engine(client):
    create_model(client)
    response = client.get(f"{RM}/get", query_string={"name": "m\x001"})
    assert response.status_code == 400
    body = {"name": "m1", "key": "k", "value": "a\x00b"}
    assert client.post(f"{RM}/set-tag", json=body).status_code == 400
    body = {"name": "m2", "tags": [{"key": "k\x00", "value": "v"}]}
    assert client.post(f"{RM}/create", json=body).status_code == 400
    assert "tags" not in get_model(client)
    assert client.get(f"{RM}/get", query_string={"name": "m2"}).status_code == 404
