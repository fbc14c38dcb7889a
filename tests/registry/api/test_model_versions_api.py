from __future__ import annotations

import json

import pytest

from tests.registry_factories import (
    API,
    create_model,
    create_version,
    get_model,
    make_logged_model,
    make_run,
    set_alias,
    transition,
)

MV = f"{API}/model-versions"


def _get(client, version, name="m1"):
    return client.get(f"{MV}/get", query_string={"name": name, "version": version})


def test_versions_are_numbered_per_model_and_ready(client):
    create_model(client, "a")
    create_model(client, "b")
    assert [create_version(client, "a")["version"] for _ in range(3)] == ["1", "2", "3"]
    version = create_version(
        client,
        "b",
        description="d",
        tags=[{"key": "k", "value": "v"}],
        run_link="http://x",
    )
    assert version["version"] == "1"
    assert version["status"] == "READY" and version["current_stage"] == "None"
    assert version["tags"] == [{"key": "k", "value": "v"}]
    fetched = _get(client, "1", "b").json["model_version"]
    assert fetched["description"] == "d" and fetched["run_link"] == "http://x"


def test_update_tags_and_delete(client):
    create_model(client)
    create_version(client)
    create_version(client)
    set_alias(client, "champion", "2")
    response = client.patch(f"{MV}/update", json={"name": "m1", "version": "2", "description": "x"})
    assert response.json["model_version"]["description"] == "x"
    client.post(f"{MV}/set-tag", json={"name": "m1", "version": "2", "key": "k", "value": "v"})
    assert _get(client, "2").json["model_version"]["tags"] == [{"key": "k", "value": "v"}]
    client.delete(f"{MV}/delete-tag", json={"name": "m1", "version": "2", "key": "k"})
    assert "tags" not in _get(client, "2").json["model_version"]

    assert client.delete(f"{MV}/delete", json={"name": "m1", "version": "2"}).json == {}
    assert _get(client, "2").status_code == 404
    assert "aliases" not in get_model(client)
    # A deleted number is never given out again.
    assert create_version(client)["version"] == "3"


def test_transition_archive_existing_versions(client):
    create_model(client)
    for _ in range(3):
        create_version(client)
    transition(client, "1", "Production")
    transition(client, "2", "Production")
    moved = transition(client, "3", "production", archive=True)
    assert moved["current_stage"] == "Production"
    stages = {v: _get(client, v).json["model_version"]["current_stage"] for v in "123"}
    assert stages == {"1": "Archived", "2": "Archived", "3": "Production"}


def test_exclusive_model_archives_the_previous_holder(client):
    create_model(client, exclusive_stages=True)
    for _ in range(2):
        create_version(client)
    transition(client, "1", "Production")
    transition(client, "2", "Production")
    stages = {v: _get(client, v).json["model_version"]["current_stage"] for v in "12"}
    assert stages == {"1": "Archived", "2": "Production"}


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"stage": "Prod"}, 400, "INVALID_PARAMETER_VALUE"),
        ({"stage": "Archived", "archive_existing_versions": True}, 400, "INVALID_PARAMETER_VALUE"),
        ({"stage": "None", "archive_existing_versions": True}, 400, "INVALID_PARAMETER_VALUE"),
        ({"stage": "Staging", "version": "9"}, 404, "RESOURCE_DOES_NOT_EXIST"),
        ({"stage": "Staging", "version": "one"}, 400, "INVALID_PARAMETER_VALUE"),
        ({"stage": "Staging", "name": "nope"}, 404, "RESOURCE_DOES_NOT_EXIST"),
        ({}, 400, "INVALID_PARAMETER_VALUE"),
    ],
)
def test_bad_transitions_change_nothing(sqlite_client, body, status, code):
    create_model(sqlite_client)
    create_version(sqlite_client)
    transition(sqlite_client, "1", "Production")
    request = {"name": "m1", "version": "1", "archive_existing_versions": False, **body}
    response = sqlite_client.post(f"{MV}/transition-stage", json=request)
    assert response.status_code == status
    assert response.json["error_code"] == code
    assert _get(sqlite_client, "1").json["model_version"]["current_stage"] == "Production"


@pytest.mark.parametrize(
    ("path", "method"),
    [
        ("get", "get"),
        ("update", "patch"),
        ("delete", "delete"),
        ("get-download-uri", "get"),
        ("set-tag", "post"),
    ],
)
@pytest.mark.parametrize(("version", "status"), [("7", 404), ("abc", 400), ("-1", 400)])
def test_unknown_or_bad_version(sqlite_client, path, method, version, status):
    create_model(sqlite_client)
    create_version(sqlite_client)
    body = {"name": "m1", "version": version, "key": "k", "value": "v"}
    key = "query_string" if method == "get" else "json"
    response = getattr(sqlite_client, method)(f"{MV}/{path}", **{key: body})
    assert response.status_code == status
    assert _get(sqlite_client, "1").status_code == 200


def test_create_for_unknown_model_is_404(sqlite_client):
    body = {"name": "nope", "source": "runs:/abc/model"}
    response = sqlite_client.post(f"{MV}/create", json=body)
    assert response.status_code == 404


@pytest.mark.parametrize(
    "source",
    [
        "/etc/passwd",
        "relative/path",
        "file:///etc/passwd",
        "file://evil-host/share/model",
        "mlflow-artifacts:/1/../../etc",
        "mlflow-artifacts:/1/%2e%2e/%2e%2e/etc",
        "mlflow-artifacts:/1/%252e%252e/etc",
        "runs:/abc/../../x",
        "runs:/abc/model\x00.txt",
        "mlflow-artifacts://attacker:80/x",
        "http://example.com/model",
        "s3://someone-elses-bucket/model",
        "",
    ],
)
def test_unsafe_sources_are_rejected(sqlite_client, source):
    create_model(sqlite_client)
    response = sqlite_client.post(f"{MV}/create", json={"name": "m1", "source": source})
    assert response.status_code == 400
    assert response.json["error_code"] == "INVALID_PARAMETER_VALUE"
    assert "latest_versions" not in get_model(sqlite_client)


def test_sources_under_the_artifact_root_are_accepted(sqlite_client, artifact_root):
    create_model(sqlite_client)
    create_version(sqlite_client, source=str(artifact_root / "1" / "model"))
    create_version(sqlite_client, source=f"file://{artifact_root}/1/model")
    create_version(sqlite_client, source="mlflow-artifacts:/1/abc/artifacts/model")
    response = sqlite_client.post(
        f"{MV}/create", json={"name": "m1", "source": f"{artifact_root}-sibling/x"}
    )
    assert response.status_code == 400


def test_runs_source_must_match_run_id(sqlite_client):
    create_model(sqlite_client)
    body = {"name": "m1", "source": "runs:/aaaa/model", "run_id": "bbbb"}
    assert sqlite_client.post(f"{MV}/create", json=body).status_code == 400
    body["run_id"] = "aaaa"
    assert sqlite_client.post(f"{MV}/create", json=body).status_code == 200


def test_logged_model_source_fills_run_and_tags_logged_model(client):
    run = make_run()
    logged = make_logged_model(run)
    create_model(client)
    version = create_version(client, source=f"models:/{logged.model_id}", model_id=logged.model_id)
    assert version["run_id"] == run.run_uuid
    assert version["model_id"] == logged.model_id
    response = client.get(f"{MV}/get-download-uri", query_string={"name": "m1", "version": "1"})
    assert response.json == {"artifact_uri": logged.artifact_uri}
    tag = client.get(f"{API}/logged-models/{logged.model_id}").json["model"]["info"]["tags"]
    versions = json.loads({t["key"]: t["value"] for t in tag}["mlflow.modelVersions"])
    assert versions == [{"name": "m1", "version": 1}]


def test_download_uri_of_other_sources_is_the_source(sqlite_client):
    create_model(sqlite_client)
    create_version(sqlite_client, source="runs:/abc/model")
    response = sqlite_client.get(
        f"{MV}/get-download-uri", query_string={"name": "m1", "version": "1"}
    )
    assert response.json == {"artifact_uri": "runs:/abc/model"}


def test_search_versions_by_name_and_run_skips_deleted(client):
    create_model(client, "a")
    create_model(client, "b")
    run = make_run()
    create_version(client, "a", source=f"runs:/{run.run_uuid}/model", run_id=run.run_uuid)
    create_version(client, "a")
    create_version(client, "a")
    create_version(client, "b")
    client.delete(f"{MV}/delete", json={"name": "a", "version": "3"})
    query = {"filter": "name='a'", "order_by": ["version_number DESC"]}
    found = client.get(f"{MV}/search", query_string=query).json["model_versions"]
    assert [v["version"] for v in found] == ["2", "1"]
    query = {"filter": f"run_id = '{run.run_uuid}'"}
    found = client.get(f"{MV}/search", query_string=query).json["model_versions"]
    assert [(v["name"], v["version"]) for v in found] == [("a", "1")]
    query = {"filter": "name='a' AND version_number > 1", "max_results": 1}
    page = client.get(f"{MV}/search", query_string=query).json
    assert [v["version"] for v in page["model_versions"]] == ["2"]
    assert "next_page_token" not in page


def test_logged_model_source_alone_fills_model_and_run(sqlite_client):
    run = make_run()
    logged = make_logged_model(run)
    create_model(sqlite_client)
    version = create_version(sqlite_client, source=f"models:/{logged.model_id}")
    assert (version["run_id"], version["model_id"]) == (run.run_uuid, logged.model_id)


@pytest.mark.parametrize(
    ("path", "method", "extra"),
    [
        ("set-tag", "post", {"key": "k", "value": "x" * 16001}),
        ("update", "patch", {"description": "x" * 16001}),
    ],
)
def test_oversized_text_is_400_on_every_engine(client, path, method, extra):
    create_model(client)
    create_version(client, description="kept")
    body = {"name": "m1", "version": "1", **extra}
    response = getattr(client, method)(f"{MV}/{path}", json=body)
    assert response.status_code == 400
    version = _get(client, "1").json["model_version"]
    assert version["description"] == "kept" and "tags" not in version
