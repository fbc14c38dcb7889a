"""Approval policies and transition requests, in-process on every engine.

A move into a stage or alias whose policy requires approvals is refused for everyone; a request
approved by enough eligible users (never its requester) performs it in the approval's own
transaction, recorded in the history, the audit log and the event stream.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from registry.store import use_database
from registry.store.events import events_after
from tests.registry.auth.conftest import ADMIN_PASSWORD, basic

API = "/api/2.0/mlflow"
OURS = "/api/2.0/modelyard"
REQUESTS = f"{OURS}/transition-requests"
Headers = dict[str, str]


def _ok(reply: Any) -> dict[str, Any]:
    assert reply.status_code == 200, reply.get_json()
    data: dict[str, Any] = reply.get_json()
    return data


def _model(app: Flask, admin: FlaskClient, versions: int = 2, **grants: str) -> None:
    """Model ``fraud`` with ``versions`` versions, and each user's grant on it."""
    _ok(admin.post(f"{API}/registered-models/create", json={"name": "fraud"}))
    for _ in range(versions):
        body = {"name": "fraud", "source": "runs:/r/model"}
        _ok(admin.post(f"{API}/model-versions/create", json=body))
    for username, level in grants.items():
        body = {"name": "fraud", "username": username, "permission": level}
        _ok(admin.post(f"{API}/registered-models/permissions/create", json=body))


def _policy(admin: FlaskClient, **fields: Any) -> dict[str, Any]:
    body = {"name": "fraud", "stages": ["Production"], "aliases": ["champion"], **fields}
    return _ok(admin.post(f"{OURS}/registered-models/protections", json=body))


def _stage(admin: FlaskClient, version: int) -> str:
    reply = admin.get(f"{API}/model-versions/get?name=fraud&version={version}")
    return str(_ok(reply)["model_version"]["current_stage"])


def _request(client: FlaskClient, who: Headers, **fields: Any) -> Any:
    body = {"name": "fraud", "version": "1", "stage": "Production", **fields}
    return client.post(f"{REQUESTS}/create", json=body, headers=who)


def _act(client: FlaskClient, verb: str, request_id: str, who: Headers, comment: str = "") -> Any:
    body = {"request_id": int(request_id), "comment": comment}
    return client.post(f"{REQUESTS}/{verb}", json=body, headers=who)


def _events(app: Flask) -> list[tuple[str, dict[str, Any]]]:
    with use_database(app.extensions["registry"].database):
        rows = events_after(0, model_name="fraud", limit=1000)
    return [(row.event_type, row.data) for row in rows if row.entity == "transition_request"]


@pytest.fixture
def users(auth_app: Flask, make_user: Callable[..., Headers]) -> dict[str, Headers]:
    """ana and dave may EDIT fraud, bob and carol MANAGE it, erin only reads it."""
    return {name: make_user(auth_app, name) for name in ("ana", "bob", "carol", "dave", "erin")}


def test_a_protected_production_move_needs_two_approvals_and_the_last_one_moves(
    auth_app: Flask, admin: FlaskClient, users: dict[str, Headers]
) -> None:
    _model(auth_app, admin, ana="EDIT", bob="MANAGE", carol="MANAGE", dave="EDIT", erin="READ")
    policy = _policy(admin, approvals_required=2)
    assert policy == {
        "name": "fraud",
        "stages": ["Production"],
        "aliases": ["champion"],
        "approvals_required": 2,
        "approver_group": None,
    }
    client = auth_app.test_client()
    direct = {"name": "fraud", "version": "1", "stage": "production"}
    for who in (users["ana"], users["bob"], basic("admin", ADMIN_PASSWORD)):
        refused = client.post(f"{API}/model-versions/transition-stage", json=direct, headers=who)
        assert refused.status_code == 403
        assert refused.get_json()["error_code"] == "PERMISSION_DENIED"
        assert "transition-requests/create" in refused.get_json()["message"]
    alias = {"name": "fraud", "alias": "champion", "version": "1"}
    assert (
        client.post(f"{API}/registered-models/alias", json=alias, headers=users["bob"]).status_code
        == 403
    )
    # Staging is not protected: EDIT moves it directly, as before.
    staging = {"name": "fraud", "version": "1", "stage": "Staging"}
    _ok(client.post(f"{API}/model-versions/transition-stage", json=staging, headers=users["ana"]))
    assert _request(client, users["erin"]).status_code == 403  # READ may not request

    made = _ok(_request(client, users["ana"], comment="AUC +2 points"))["transition_request"]
    assert made["status"] == "open" and made["requested_by"] == "ana"
    assert made["stage"] == "Production" and made["approvals_required"] == 2
    request_id = made["id"]
    assert _request(client, users["dave"]).status_code == 409  # the same move is asked already

    own = _act(client, "approve", request_id, users["ana"])
    assert own.status_code == 403 and "your own review does not count" in own.get_json()["message"]
    assert _act(client, "approve", request_id, users["dave"]).status_code == 403  # EDIT only
    assert _act(client, "approve", request_id, users["erin"]).status_code == 403

    first = _ok(_act(client, "approve", request_id, users["bob"], "looks good"))
    assert first["transition_request"]["status"] == "open"
    assert first["transition_request"]["approvals"] == ["bob"]
    assert _act(client, "approve", request_id, users["bob"]).status_code == 409  # counted once
    assert _stage(admin, 1) == "Staging"

    done = _ok(_act(client, "approve", request_id, users["carol"]))["transition_request"]
    assert done["status"] == "approved" and done["approvals"] == ["bob", "carol"]
    assert done["resolved_by"] == "carol"
    assert _stage(admin, 1) == "Production"
    assert _act(client, "approve", request_id, users["carol"]).status_code == 409  # closed

    history = _ok(admin.get(f"{OURS}/registered-models/history?name=fraud"))["transitions"]
    newest = history[0]
    assert (newest["version"], newest["from"], newest["to"]) == ("1", "Staging", "Production")
    assert newest["user_id"] == "carol"
    assert "request" in newest["comment"] and "bob, carol" in newest["comment"]
    assert "AUC +2 points" in newest["comment"]

    audit = _ok(admin.get(f"{OURS}/audit?object_type=transition_request&object_id={request_id}"))
    actions = [(e["username"], e["action"], e["status"]) for e in audit["entries"]]
    assert ("carol", "transition_requests.approve", 200) in actions
    assert ("bob", "transition_requests.approve", 200) in actions
    assert ("ana", "transition_requests.approve", 403) in actions
    created = _ok(admin.get(f"{OURS}/audit?object_type=registered_model&object_id=fraud/1"))
    assert any(e["action"] == "transition_requests.create" for e in created["entries"])

    events = _events(auth_app)
    assert [name for name, _ in events] == [
        "transition_request.created",
        "transition_request.approved",
        "transition_request.approved",
    ]
    assert events[0][1]["request_id"] == int(request_id)
    assert events[0][1]["stage"] == "Production" and events[0][1]["requested_by"] == "ana"
    assert [data["performed"] for _, data in events[1:]] == [False, True]


def test_reject_cancel_and_comments(
    auth_app: Flask, admin: FlaskClient, users: dict[str, Headers]
) -> None:
    _model(auth_app, admin, ana="EDIT", bob="MANAGE", dave="EDIT", erin="READ")
    _policy(admin, approvals_required=1)
    client = auth_app.test_client()
    request_id = _ok(_request(client, users["ana"]))["transition_request"]["id"]
    assert _act(client, "cancel", request_id, users["dave"]).status_code == 403
    _ok(_act(client, "comment", request_id, users["erin"], "why now?"))
    cancelled = _ok(_act(client, "cancel", request_id, users["ana"], "not yet"))
    assert cancelled["transition_request"]["status"] == "cancelled"
    assert [(r["action"], r["username"]) for r in cancelled["transition_request"]["reviews"]] == [
        ("comment", "erin"),
        ("cancel", "ana"),
    ]

    again = _ok(_request(client, users["ana"]))["transition_request"]["id"]
    assert _act(client, "reject", again, users["ana"]).status_code == 403  # own request
    assert _act(client, "reject", again, users["dave"]).status_code == 403  # not an approver
    rejected = _ok(_act(client, "reject", again, users["bob"], "metrics regressed"))
    assert rejected["transition_request"]["status"] == "rejected"
    assert rejected["transition_request"]["status_reason"] == "metrics regressed"
    assert _act(client, "approve", again, users["bob"]).status_code == 409
    assert _stage(admin, 1) == "None"

    listed = _ok(client.get(f"{REQUESTS}/list?name=fraud&status=closed", headers=users["erin"]))
    assert [r["status"] for r in listed["transition_requests"]] == ["rejected", "cancelled"]
    open_ = _ok(client.get(f"{REQUESTS}/list?status=open", headers=users["erin"]))
    assert open_.get("transition_requests", []) == []
    assert [name for name, _ in _events(auth_app)] == [
        "transition_request.created",
        "transition_request.cancelled",
        "transition_request.created",
        "transition_request.rejected",
    ]


def test_a_request_goes_stale_when_its_target_moved_or_its_version_was_deleted(
    auth_app: Flask, admin: FlaskClient, users: dict[str, Headers]
) -> None:
    _model(auth_app, admin, versions=3, ana="EDIT", bob="MANAGE")
    _policy(admin, approvals_required=1)
    client = auth_app.test_client()
    to_production = _ok(_request(client, users["ana"]))["transition_request"]["id"]
    to_champion = _ok(_request(client, users["ana"], stage="", alias="champion", version="2"))
    champion_id = to_champion["transition_request"]["id"]

    # An admin lowers the policy, moves version 3 into Production directly, and restores it.
    _policy(admin, approvals_required=0)
    direct = {"name": "fraud", "version": "3", "stage": "Production"}
    _ok(admin.post(f"{API}/model-versions/transition-stage", json=direct))
    _policy(admin, approvals_required=1)

    stale = _act(client, "approve", to_production, users["bob"])
    assert stale.status_code == 409 and stale.get_json()["error_code"] == "INVALID_STATE"
    assert "stale" in stale.get_json()["message"]
    found = _ok(client.get(f"{REQUESTS}/get?request_id={to_production}", headers=users["ana"]))
    assert found["transition_request"]["status"] == "stale"
    assert "held by nobody then and by 3 now" in found["transition_request"]["status_reason"]
    assert (_stage(admin, 1), _stage(admin, 3)) == ("None", "Production")

    deleted = admin.delete(f"{API}/model-versions/delete", json={"name": "fraud", "version": "2"})
    _ok(deleted)
    gone = _act(client, "approve", champion_id, users["bob"])
    assert gone.status_code == 409 and "version 2 was deleted" in gone.get_json()["message"]
    model = _ok(admin.get(f"{API}/registered-models/get?name=fraud"))["registered_model"]
    assert model.get("aliases", []) == []


def test_a_group_policy_counts_only_members_and_only_admins_change_it(
    auth_app: Flask, admin: FlaskClient, users: dict[str, Headers]
) -> None:
    _model(auth_app, admin, ana="EDIT", bob="MANAGE", erin="READ")
    client = auth_app.test_client()
    # bob manages the model: he may set protections, and turn approvals on, but not off.
    body = {"name": "fraud", "stages": [], "aliases": ["champion"], "approvals_required": 1}
    body["approver_group"] = "release"
    _ok(client.post(f"{OURS}/registered-models/protections", json=body, headers=users["bob"]))
    lowered = client.post(
        f"{OURS}/registered-models/protections",
        json={**body, "approvals_required": 0},
        headers=users["bob"],
    )
    assert lowered.status_code == 403 and "only an admin" in lowered.get_json()["message"]
    member = {"group": "release", "username": "erin"}
    assert (
        client.post(f"{OURS}/groups/add-member", json=member, headers=users["bob"]).status_code
        == 403
    )
    groups = _ok(admin.post(f"{OURS}/groups/add-member", json=member))
    assert groups == {"groups": [{"group": "release", "members": ["erin"]}]}

    made = _request(client, users["ana"], stage="", alias="champion", version="2")
    request_id = _ok(made)["transition_request"]["id"]
    refused = _act(client, "approve", request_id, users["bob"])
    assert refused.status_code == 403 and "group 'release'" in refused.get_json()["message"]
    done = _ok(_act(client, "approve", request_id, users["erin"]))["transition_request"]
    assert done["status"] == "approved"
    model = _ok(admin.get(f"{API}/registered-models/get?name=fraud"))["registered_model"]
    assert model["aliases"] == [{"alias": "champion", "version": "2"}]
    # Production is not protected under this policy: nothing to request.
    assert _request(client, users["ana"]).status_code == 400


def test_without_approvals_the_protection_stays_manage_only(
    auth_app: Flask, admin: FlaskClient, users: dict[str, Headers]
) -> None:
    _model(auth_app, admin, ana="EDIT", bob="MANAGE")
    policy = _policy(admin)
    assert policy["approvals_required"] == 0
    client = auth_app.test_client()
    direct = {"name": "fraud", "version": "1", "stage": "Production"}
    move = f"{API}/model-versions/transition-stage"
    assert client.post(move, json=direct, headers=users["ana"]).status_code == 403
    _ok(client.post(move, json=direct, headers=users["bob"]))
    assert _request(client, users["ana"], version="2").status_code == 400


def test_requests_answer_404_without_auth(sqlite_client: FlaskClient) -> None:
    reply = sqlite_client.get(f"{REQUESTS}/list")
    assert reply.status_code == 404
    assert reply.get_json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
