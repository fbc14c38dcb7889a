"""MLflow's auth REST API shapes (the 2.x per-resource permission endpoints), and 404 when off."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient

API = "/api/2.0/mlflow"


def test_experiment_permissions_create_get_update_delete(
    auth_app: Flask, admin: FlaskClient, make_user: Callable[..., dict[str, str]]
) -> None:
    bob = make_user(auth_app, "bob")
    experiment_id = admin.post(f"{API}/experiments/create", json={"name": "e"}).get_json()[
        "experiment_id"
    ]
    grant = {"experiment_id": experiment_id, "username": "bob", "permission": "EDIT"}
    created = admin.post(f"{API}/experiments/permissions/create", json=grant)
    assert created.status_code == 200
    user_id = created.get_json()["experiment_permission"]["user_id"]
    assert created.get_json() == {
        "experiment_permission": {
            "experiment_id": experiment_id,
            "user_id": user_id,
            "permission": "EDIT",
        }
    }
    client = auth_app.test_client()
    assert (
        client.post(
            f"{API}/runs/create", json={"experiment_id": experiment_id}, headers=bob
        ).status_code
        == 200
    )
    update = admin.patch(
        f"{API}/experiments/permissions/update", json={**grant, "permission": "READ"}
    )
    assert update.status_code == 200
    got = admin.get(
        f"{API}/experiments/permissions/get",
        query_string={"experiment_id": experiment_id, "username": "bob"},
    )
    assert got.get_json()["experiment_permission"]["permission"] == "READ"
    assert (
        client.post(
            f"{API}/runs/create", json={"experiment_id": experiment_id}, headers=bob
        ).status_code
        == 403
    )
    bad = admin.post(f"{API}/experiments/permissions/create", json={**grant, "permission": "OWNER"})
    assert bad.status_code == 400
    assert bad.get_json()["error_code"] == "INVALID_PARAMETER_VALUE"
    deleted = admin.delete(
        f"{API}/experiments/permissions/delete",
        json={"experiment_id": experiment_id, "username": "bob"},
    )
    assert deleted.status_code == 200
    missing = admin.get(
        f"{API}/experiments/permissions/get",
        query_string={"experiment_id": experiment_id, "username": "bob"},
    )
    assert missing.status_code == 404
    assert missing.get_json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"


def test_model_permissions_and_the_users_view_of_them(
    auth_app: Flask, admin: FlaskClient, make_user: Callable[..., dict[str, str]]
) -> None:
    bob = make_user(auth_app, "bob")
    admin.post(f"{API}/registered-models/create", json={"name": "fraud"})
    grant = {"name": "fraud", "username": "bob", "permission": "MANAGE"}
    created = admin.post(f"{API}/registered-models/permissions/create", json=grant)
    assert created.get_json()["registered_model_permission"]["permission"] == "MANAGE"
    me = auth_app.test_client().get(f"{API}/users/get?username=bob", headers=bob).get_json()
    assert me["user"]["username"] == "bob"
    assert me["user"]["is_admin"] is False
    assert [(p["name"], p["permission"]) for p in me["user"]["registered_model_permissions"]] == [
        ("fraud", "MANAGE")
    ]
    other = auth_app.test_client().get(f"{API}/users/get?username=admin", headers=bob)
    assert other.status_code == 403
    renamed = auth_app.test_client().post(
        f"{API}/registered-models/rename",
        json={"name": "fraud", "new_name": "fraud-v2"},
        headers=bob,
    )
    assert renamed.status_code == 200
    again = admin.get(
        f"{API}/registered-models/permissions/get",
        query_string={"name": "fraud-v2", "username": "bob"},
    )
    assert again.get_json()["registered_model_permission"]["permission"] == "MANAGE"


def test_a_user_changes_their_own_password_only_with_the_current_one(
    auth_app: Flask, make_user: Callable[..., dict[str, str]]
) -> None:
    from tests.registry.auth.conftest import PASSWORD, basic

    bob = make_user(auth_app, "bob")
    client = auth_app.test_client()
    body = {"username": "bob", "password": "new-password-2"}
    assert client.patch(f"{API}/users/update-password", json=body, headers=bob).status_code == 403
    ok = client.patch(
        f"{API}/users/update-password", json={**body, "current_password": PASSWORD}, headers=bob
    )
    assert ok.status_code == 200
    assert client.get(f"{API}/experiments/search", headers=bob).status_code == 401
    fresh = basic("bob", "new-password-2")
    assert client.get(f"{API}/experiments/search", headers=fresh).status_code == 200
    promote = client.patch(
        f"{API}/users/update-admin", json={"username": "bob", "is_admin": True}, headers=fresh
    )
    assert promote.status_code == 403


def test_the_auth_api_is_absent_while_auth_is_off(sqlite_client: FlaskClient) -> None:
    reply = sqlite_client.post(
        f"{API}/users/create", json={"username": "mallory", "password": "mallory-password"}
    )
    assert reply.status_code == 404
    assert "--auth" in reply.get_json()["message"]
