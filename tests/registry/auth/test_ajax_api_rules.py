"""Under ``--auth``, MLflow's ``/ajax-api`` forms and its UI's endpoints apply the same rules."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient

from tests.registry.auth.conftest import ADMIN_PASSWORD, basic

API = "/api/2.0/mlflow"
AJAX = "/ajax-api/2.0/mlflow"


def _hidden_run(admin: FlaskClient, username: str) -> tuple[str, str]:
    experiment_id = admin.post(f"{API}/experiments/create", json={"name": "secret"}).json[
        "experiment_id"
    ]
    run_id = admin.post(f"{API}/runs/create", json={"experiment_id": experiment_id}).json["run"][
        "info"
    ]["run_id"]
    point = {"key": "m", "value": 1.0, "timestamp": 1, "step": 0}
    admin.post(f"{API}/runs/log-batch", json={"run_id": run_id, "metrics": [point]})
    grant = {"experiment_id": experiment_id, "username": username, "permission": "NO_PERMISSIONS"}
    assert admin.post(f"{API}/experiments/permissions/create", json=grant).status_code == 200
    return experiment_id, run_id


def test_a_hidden_run_stays_hidden_under_every_ui_route(
    sqlite_auth_app: Flask, make_user: Callable[..., dict[str, str]]
) -> None:
    admin = sqlite_auth_app.test_client()
    admin.environ_base["HTTP_AUTHORIZATION"] = basic("admin", ADMIN_PASSWORD)["Authorization"]
    ana = make_user(sqlite_auth_app, "ana")
    experiment_id, run_id = _hidden_run(admin, "ana")
    upload = {"run_uuid": run_id, "path": "a.txt"}
    assert admin.post(f"{AJAX}/upload-artifact", query_string=upload, data=b"x").status_code == 200
    client = sqlite_auth_app.test_client()
    refused = [
        client.get(f"{AJAX}/runs/get", query_string={"run_id": run_id}, headers=ana),
        client.post(
            f"{AJAX}/runs/set-tag", json={"run_id": run_id, "key": "k", "value": "v"}, headers=ana
        ),
        client.get(
            f"{AJAX}/metrics/get-history-bulk-interval",
            query_string={"run_ids": run_id, "metric_key": "m"},
            headers=ana,
        ),
        client.post(
            f"{AJAX}/experiments/search-datasets",
            json={"experiment_ids": [experiment_id]},
            headers=ana,
        ),
        client.post(
            f"{AJAX}/upload-artifact",
            query_string={**upload, "path": "b.txt"},
            data=b"y",
            headers=ana,
        ),
        client.get("/get-artifact", query_string=upload, headers=ana),
    ]
    assert [r.status_code for r in refused] == [403] * len(refused)
    bulk = client.get(
        f"{AJAX}/metrics/get-history-bulk",
        query_string={"run_id": run_id, "metric_key": "m"},
        headers=ana,
    )
    assert bulk.json == {"metrics": []}
    assert (
        len(
            admin.get(
                f"{AJAX}/metrics/get-history-bulk",
                query_string={"run_id": run_id, "metric_key": "m"},
            ).json["metrics"]
        )
        == 1
    )
    tags = admin.get(f"{API}/runs/get", query_string={"run_id": run_id}).json["run"]["data"]
    assert "tags" not in tags or all(t["key"] != "k" for t in tags["tags"])
    listed = admin.get(f"{API}/artifacts/list", query_string={"run_id": run_id}).json["files"]
    assert [f["path"] for f in listed] == ["a.txt"]


def test_a_json_body_cannot_redirect_an_upload_to_another_run(
    sqlite_auth_app: Flask, make_user: Callable[..., dict[str, str]]
) -> None:
    admin = sqlite_auth_app.test_client()
    admin.environ_base["HTTP_AUTHORIZATION"] = basic("admin", ADMIN_PASSWORD)["Authorization"]
    ana = make_user(sqlite_auth_app, "ana")
    _, hidden = _hidden_run(admin, "ana")
    own = admin.post(f"{API}/runs/create", json={"experiment_id": "0"}).json["run"]["info"]
    reply = sqlite_auth_app.test_client().post(
        f"{AJAX}/upload-artifact",
        query_string={"run_uuid": hidden, "path": "x.txt"},
        json={"run_uuid": own["run_id"], "run_id": own["run_id"]},
        headers=ana,
    )
    assert reply.status_code == 403
    assert "files" not in admin.get(f"{API}/artifacts/list", query_string={"run_id": hidden}).json


def test_a_second_run_id_cannot_redirect_an_upload(
    sqlite_auth_app: Flask, make_user: Callable[..., dict[str, str]]
) -> None:
    admin = sqlite_auth_app.test_client()
    admin.environ_base["HTTP_AUTHORIZATION"] = basic("admin", ADMIN_PASSWORD)["Authorization"]
    ana = make_user(sqlite_auth_app, "ana")
    _, hidden = _hidden_run(admin, "ana")
    own = admin.post(f"{API}/runs/create", json={"experiment_id": "0"}).json["run"]["info"]
    grant = {"experiment_id": "0", "username": "ana", "permission": "EDIT"}
    assert admin.post(f"{API}/experiments/permissions/create", json=grant).status_code == 200
    reply = sqlite_auth_app.test_client().post(
        f"{AJAX}/upload-artifact",
        query_string={"run_id": own["run_id"], "run_uuid": hidden, "path": "x.txt"},
        data=b"x",
        headers=ana,
    )
    assert reply.status_code == 400
    assert "files" not in admin.get(f"{API}/artifacts/list", query_string={"run_id": hidden}).json
