"""Permissions on experiments and registered models, checked before the query, on every engine."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

from registry.store import use_database
from registry.store.experiments import create_experiment
from tests.registry.auth.conftest import ADMIN_PASSWORD, basic
from tests.registry_factories import OURS, create_model, create_version

API = "/api/2.0/mlflow"
ARTIFACTS = "/api/2.0/mlflow-artifacts/artifacts"


def _grant(app: Flask, experiment_id: int, username: str, level: str) -> None:
    body = {"experiment_id": str(experiment_id), "username": username, "permission": level}
    reply = app.test_client().post(
        f"{API}/experiments/permissions/create",
        json=body,
        headers=basic("admin", ADMIN_PASSWORD),
    )
    assert reply.status_code == 200, reply.get_json()


def _grant_model(app: Flask, name: str, username: str, level: str) -> None:
    body = {"name": name, "username": username, "permission": level}
    reply = app.test_client().post(
        f"{API}/registered-models/permissions/create",
        json=body,
        headers=basic("admin", ADMIN_PASSWORD),
    )
    assert reply.status_code == 200, reply.get_json()


def test_search_pages_are_full_for_a_user_who_sees_one_experiment_in_many(
    closed_auth_app: Flask, make_user: Callable[..., dict[str, str]]
) -> None:
    auth_app = closed_auth_app
    admin = auth_app.test_client()
    admin.environ_base["HTTP_AUTHORIZATION"] = basic("admin", ADMIN_PASSWORD)["Authorization"]
    ana = make_user(auth_app, "ana")
    with use_database(auth_app.extensions["registry"].database):
        ids = [create_experiment(f"e{i:04d}", None, {}).experiment_id for i in range(1000)]
    _grant(auth_app, ids[637], "ana", "READ")  # one experiment in 1,000
    client = auth_app.test_client()
    page = client.post(f"{API}/experiments/search", json={"max_results": 1}, headers=ana)
    assert page.status_code == 200
    assert [e["name"] for e in page.get_json()["experiments"]] == ["e0637"]
    assert "next_page_token" not in page.get_json()
    hidden = client.get(f"{API}/experiments/get?experiment_id={ids[3]}", headers=ana)
    assert hidden.status_code == 403
    everything = admin.post(f"{API}/experiments/search", json={"max_results": 1000})
    assert len(everything.get_json()["experiments"]) == 1000  # and a next page: Default
    run = client.post(f"{API}/runs/create", json={"experiment_id": str(ids[637])}, headers=ana)
    assert run.status_code == 403
    admin.post(f"{API}/runs/create", json={"experiment_id": str(ids[3])})
    admin.post(f"{API}/runs/create", json={"experiment_id": str(ids[637])})
    runs = client.post(
        f"{API}/runs/search",
        json={"experiment_ids": [str(ids[3]), str(ids[637])], "max_results": 1},
        headers=ana,
    ).get_json()
    assert [r["info"]["experiment_id"] for r in runs["runs"]] == [str(ids[637])]
    assert "next_page_token" not in runs


def test_the_creator_manages_and_others_only_read_by_default(
    auth_app: Flask, make_user: Callable[..., dict[str, str]]
) -> None:
    ana, bob = make_user(auth_app, "ana"), make_user(auth_app, "bob")
    client = auth_app.test_client()
    created = client.post(f"{API}/experiments/create", json={"name": "ana-exp"}, headers=ana)
    experiment_id = created.get_json()["experiment_id"]
    assert (
        client.get(f"{API}/experiments/get?experiment_id={experiment_id}", headers=bob).status_code
        == 200
    )
    for path, body in (
        ("experiments/update", {"experiment_id": experiment_id, "new_name": "bob-was-here"}),
        ("experiments/delete", {"experiment_id": experiment_id}),
        ("runs/create", {"experiment_id": experiment_id}),
    ):
        refused = client.post(f"{API}/{path}", json=body, headers=bob)
        assert refused.status_code == 403, path
        assert refused.get_json()["error_code"] == "PERMISSION_DENIED"
    after = client.get(f"{API}/experiments/get?experiment_id={experiment_id}", headers=bob)
    assert after.get_json()["experiment"]["name"] == "ana-exp"
    assert after.get_json()["experiment"]["lifecycle_stage"] == "active"
    _grant(auth_app, int(experiment_id), "bob", "EDIT")
    assert (
        client.post(
            f"{API}/runs/create", json={"experiment_id": experiment_id}, headers=bob
        ).status_code
        == 200
    )
    assert (
        client.post(
            f"{API}/experiments/delete", json={"experiment_id": experiment_id}, headers=bob
        ).status_code
        == 403
    )
    assert (
        client.post(
            f"{API}/experiments/delete", json={"experiment_id": experiment_id}, headers=ana
        ).status_code
        == 200
    )


def test_a_production_model_cannot_be_deleted_or_moved_by_a_reader(
    auth_app: Flask, admin: FlaskClient, make_user: Callable[..., dict[str, str]]
) -> None:
    bob = make_user(auth_app, "bob")
    assert admin.post(f"{API}/registered-models/create", json={"name": "fraud"}).status_code == 200
    client = auth_app.test_client()
    deleted = client.delete(f"{API}/registered-models/delete", json={"name": "fraud"}, headers=bob)
    assert deleted.status_code == 403
    alias = client.post(
        f"{API}/registered-models/alias",
        json={"name": "fraud", "alias": "champion", "version": "1"},
        headers=bob,
    )
    assert alias.status_code == 403
    assert admin.get(f"{API}/registered-models/get?name=fraud").status_code == 200
    _grant_model(auth_app, "fraud", "bob", "NO_PERMISSIONS")
    assert client.get(f"{API}/registered-models/get?name=fraud", headers=bob).status_code == 403
    listed = client.get(f"{API}/registered-models/search", headers=bob).get_json()
    assert listed.get("registered_models", []) == []
    mine = client.post(f"{API}/registered-models/create", json={"name": "bobs"}, headers=bob)
    assert mine.status_code == 200
    assert (
        client.delete(
            f"{API}/registered-models/delete", json={"name": "bobs"}, headers=bob
        ).status_code
        == 200
    )


def test_the_artifact_proxy_checks_the_owning_run(
    auth_app: Flask,
    admin: FlaskClient,
    artifact_root: Path,
    make_user: Callable[..., dict[str, str]],
) -> None:
    bob = make_user(auth_app, "bob")
    run = admin.post(f"{API}/runs/create", json={"experiment_id": "0"}).get_json()["run"]["info"]
    path = f"0/{run['run_id']}/artifacts/model/model.pkl"
    assert admin.put(f"{ARTIFACTS}/{path}", data=b"good").status_code == 200
    client = auth_app.test_client()
    assert client.put(f"{ARTIFACTS}/{path}", data=b"evil").status_code == 401
    assert client.put(f"{ARTIFACTS}/{path}", data=b"evil", headers=bob).status_code == 403
    assert client.delete(f"{ARTIFACTS}/{path}", headers=bob).status_code == 403
    assert client.get(f"{ARTIFACTS}/{path}", headers=bob).data == b"good"
    listing = client.get(f"{ARTIFACTS}?path=0/{run['run_id']}/artifacts", headers=bob)
    assert listing.status_code == 200
    assert (artifact_root / path).read_bytes() == b"good"
    orphan = client.put(f"{ARTIFACTS}/elsewhere/x.bin", data=b"x", headers=bob)
    assert orphan.status_code == 403
    assert not (artifact_root / "elsewhere").exists()
    root_listing = client.get(ARTIFACTS, headers=bob)
    assert root_listing.status_code == 403


def test_protected_stages_and_aliases_need_manage(
    auth_app: Flask, admin: FlaskClient, make_user: Callable[..., dict[str, str]]
) -> None:
    bob = make_user(auth_app, "bob")
    admin.post(f"{API}/registered-models/create", json={"name": "fraud"})
    for _ in range(2):
        made = admin.post(
            f"{API}/model-versions/create", json={"name": "fraud", "source": "runs:/r/model"}
        )
        assert made.status_code == 200
    _grant_model(auth_app, "fraud", "bob", "EDIT")
    client = auth_app.test_client()
    protect = client.post(
        "/api/2.0/modelyard/registered-models/protections",
        json={"name": "fraud", "stages": ["Production"], "aliases": ["champion"]},
        headers=bob,
    )
    assert protect.status_code == 403
    protect = admin.post(
        "/api/2.0/modelyard/registered-models/protections",
        json={"name": "fraud", "stages": ["Production"], "aliases": ["champion"]},
    )
    assert protect.get_json() == {
        "name": "fraud",
        "stages": ["Production"],
        "aliases": ["champion"],
        "approvals_required": 0,
        "approver_group": None,
    }

    def move(path: str, body: dict[str, str], method: str = "POST") -> int:
        return client.open(f"{API}/{path}", method=method, json=body, headers=bob).status_code

    to_staging = {"name": "fraud", "version": "1", "stage": "Staging"}
    assert move("model-versions/transition-stage", to_staging) == 200
    to_production = {"name": "fraud", "version": "1", "stage": "production"}
    assert move("model-versions/transition-stage", to_production) == 403
    assert (
        move("registered-models/alias", {"name": "fraud", "alias": "champion", "version": "1"})
        == 403
    )
    assert (
        move("registered-models/alias", {"name": "fraud", "alias": "canary", "version": "1"}) == 200
    )
    assert (
        admin.post(
            f"{API}/model-versions/transition-stage", json={**to_production, "stage": "Production"}
        ).status_code
        == 200
    )
    out_of_production = {"name": "fraud", "version": "1", "stage": "Archived"}
    assert move("model-versions/transition-stage", out_of_production) == 403
    got = admin.get(f"{API}/model-versions/get?name=fraud&version=1").get_json()
    assert got["model_version"]["current_stage"] == "Production"


def test_a_run_created_without_an_experiment_id_needs_edit_on_default(
    auth_app: Flask, admin: FlaskClient, make_user: Callable[..., dict[str, str]]
) -> None:
    bob = make_user(auth_app, "bob")
    client = auth_app.test_client()
    refused = client.post(f"{API}/runs/create", json={}, headers=bob)
    assert refused.status_code == 403
    assert "experiment 0" in refused.get_json()["message"]
    runs = admin.post(f"{API}/runs/search", json={"experiment_ids": ["0"]}).get_json()
    assert runs.get("runs", []) == []
    _grant(auth_app, 0, "bob", "EDIT")
    assert client.post(f"{API}/runs/create", json={}, headers=bob).status_code == 200


def test_a_repeated_query_argument_is_checked_as_the_view_reads_it(
    auth_app: Flask, admin: FlaskClient, make_user: Callable[..., dict[str, str]]
) -> None:
    bob = make_user(auth_app, "bob")
    admin.post(f"{API}/registered-models/create", json={"name": "secret"})
    _grant_model(auth_app, "secret", "bob", "NO_PERMISSIONS")
    reply = auth_app.test_client().get(
        f"{API}/registered-models/get?name=secret&name=other", headers=bob
    )
    assert reply.status_code == 403


def test_the_history_names_the_signed_in_user_whatever_header_is_sent(
    auth_app: Flask, make_user: Callable[..., dict[str, str]]
) -> None:
    bob = auth_app.test_client()
    bob.environ_base["HTTP_AUTHORIZATION"] = make_user(auth_app, "bob")["Authorization"]
    impersonating = {"X-Modelyard-User": "admin"}
    create_model(bob, "bobs")
    create_version(bob, "bobs")
    moved = bob.post(
        f"{API}/model-versions/transition-stage",
        json={"name": "bobs", "version": "1", "stage": "Production"},
        headers=impersonating,
    )
    assert moved.status_code == 200, moved.get_json()
    history = bob.get(f"{OURS}/registered-models/history", query_string={"name": "bobs"})
    assert [entry["user_id"] for entry in history.get_json()["transitions"]] == ["bob"]
