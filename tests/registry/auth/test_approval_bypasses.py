"""Ways around an approval policy, closed, on every engine.

A padded or re-cased stage or alias is the same target to the policy as to the views; two final
approvals at once move once; renaming or deleting a protected model needs more than EDIT; a
rollback or an import does not move a version into a target whose policy requires approvals;
and an approval counts only while its approver may still approve.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from registry.store import use_database
from registry.store.events import events_after
from tests.registry.auth.conftest import PASSWORD
from tests.registry.auth.test_ui_login import _csrf, _login

API = "/api/2.0/mlflow"
AJAX = "/ajax-api/2.0/mlflow"
OURS = "/api/2.0/modelyard"
REQUESTS = f"{OURS}/transition-requests"
MOVE = f"{API}/model-versions/transition-stage"
Headers = dict[str, str]


def _ok(reply: Any) -> dict[str, Any]:
    assert reply.status_code == 200, reply.get_json()
    data: dict[str, Any] = reply.get_json()
    return data


def _refused(reply: Any, words: str = "") -> None:
    assert reply.status_code == 403, reply.get_data(as_text=True)[:300]
    if words:
        assert words in reply.get_data(as_text=True)


def _ui_refused(browser: FlaskClient, path: str, form: dict[str, str], words: str) -> None:
    """A refused form goes back to a page that shows why (the guard's reason, flashed)."""
    reply = browser.post(path, data=form)
    assert reply.status_code == 303
    page = browser.get(reply.headers["Location"]).get_data(as_text=True)
    assert words in page, page[:2000]


def _model(admin: FlaskClient, name: str = "fraud", versions: int = 3, **grants: str) -> None:
    _ok(admin.post(f"{API}/registered-models/create", json={"name": name}))
    for _ in range(versions):
        _ok(admin.post(f"{API}/model-versions/create", json={"name": name, "source": "runs:/r/m"}))
    for username, level in grants.items():
        body = {"name": name, "username": username, "permission": level}
        _ok(admin.post(f"{API}/registered-models/permissions/create", json=body))


def _policy(admin: FlaskClient, approvals_required: int, **fields: Any) -> None:
    body = {
        "name": "fraud",
        "stages": ["Production"],
        "aliases": ["champion"],
        "approvals_required": approvals_required,
        **fields,
    }
    _ok(admin.post(f"{OURS}/registered-models/protections", json=body))


def _state(admin: FlaskClient) -> tuple[list[str], dict[str, str]]:
    """Each version's stage, and the aliases."""
    found = _ok(admin.get(f"{API}/model-versions/search", query_string={"filter": "name='fraud'"}))
    stages = [
        v["current_stage"] for v in sorted(found["model_versions"], key=lambda v: v["version"])
    ]
    model = _ok(admin.get(f"{API}/registered-models/get?name=fraud"))["registered_model"]
    return stages, {a["alias"]: a["version"] for a in model.get("aliases", [])}


def _request(client: FlaskClient, who: Headers, version: str, **target: str) -> str:
    body = {"name": "fraud", "version": version, **(target or {"stage": "Production"})}
    made = _ok(client.post(f"{REQUESTS}/create", json=body, headers=who))
    return str(made["transition_request"]["id"])


def _approve(client: FlaskClient, request_id: str, who: Headers) -> Any:
    return client.post(f"{REQUESTS}/approve", json={"request_id": int(request_id)}, headers=who)


def _ui(app: Flask, username: str) -> tuple[FlaskClient, str]:
    """A browser session of ``username`` and a CSRF token for its forms."""
    client = app.test_client()
    _login(client, username, PASSWORD)
    return client, _csrf(client.get("/models/fraud").get_data(as_text=True))


@pytest.fixture
def users(auth_app: Flask, make_user: Callable[..., Headers]) -> dict[str, Headers]:
    """ana edits fraud; bob, carol and dave manage it."""
    made = {name: make_user(auth_app, name) for name in ("ana", "bob", "carol", "dave")}
    return made


# --- 1. a padded or re-cased target is the protected one ------------------------------------


PADDED_STAGES = ("Production ", " production", "PRODUCTION\t")


def test_a_padded_or_recased_target_needs_the_approval_on_every_path(
    auth_app: Flask, admin: FlaskClient, users: dict[str, Headers]
) -> None:
    _model(admin, ana="EDIT", bob="MANAGE")
    _policy(admin, 1)
    client = auth_app.test_client()
    for stage in PADDED_STAGES:
        body = {"name": "fraud", "version": "1", "stage": stage}
        for who in (users["ana"], users["bob"]):
            _refused(client.post(MOVE, json=body, headers=who), "transition-requests/create")
        _refused(client.post(f"{AJAX}/model-versions/transition-stage", json=body, headers=who))
    _refused(admin.post(MOVE, json={"name": "fraud", "version": "1", "stage": "Production "}))
    alias = {"name": "fraud", "alias": "champion", "version": "1"}
    _refused(client.post(f"{AJAX}/registered-models/alias", json=alias, headers=users["bob"]))

    browser, token = _ui(auth_app, "bob")
    form = {"csrf_token": token, "alias": " champion", "version": "2"}
    _ui_refused(browser, "/models/fraud/aliases", form, "transition-requests/create")
    for stage in PADDED_STAGES:
        form = {"csrf_token": token, "stage": stage}
        _ui_refused(browser, "/models/fraud/versions/3/stage", form, "transition-requests/create")
    assert _state(admin) == (["None", "None", "None"], {})
    # Not protected: moved as before.
    _ok(
        client.post(
            MOVE, json={"name": "fraud", "version": "1", "stage": " staging"}, headers=users["ana"]
        )
    )
    assert _state(admin)[0] == ["Staging", "None", "None"]


def test_a_padded_target_needs_manage_while_no_approval_is_required(
    auth_app: Flask, admin: FlaskClient, users: dict[str, Headers]
) -> None:
    _model(admin, ana="EDIT", bob="MANAGE")
    _policy(admin, 0)
    client = auth_app.test_client()
    for stage in PADDED_STAGES:
        body = {"name": "fraud", "version": "1", "stage": stage}
        _refused(client.post(MOVE, json=body, headers=users["ana"]), "MANAGE")
        _refused(
            client.post(f"{AJAX}/model-versions/transition-stage", json=body, headers=users["ana"])
        )
    browser, token = _ui(auth_app, "ana")
    form = {"csrf_token": token, "alias": " champion", "version": "2"}
    _ui_refused(browser, "/models/fraud/aliases", form, "MANAGE on model fraud is needed")
    form = {"csrf_token": token, "stage": "Production "}
    _ui_refused(browser, "/models/fraud/versions/3/stage", form, "MANAGE on model fraud")
    assert _state(admin) == (["None", "None", "None"], {})

    manager, token = _ui(auth_app, "bob")
    form = {"csrf_token": token, "alias": " champion", "version": "2"}
    assert manager.post("/models/fraud/aliases", data=form).status_code == 303
    _ok(
        client.post(
            MOVE,
            json={"name": "fraud", "version": "1", "stage": "production "},
            headers=users["bob"],
        )
    )
    assert _state(admin) == (["Production", "None", "None"], {"champion": "2"})


# --- 2. simultaneous final approvals move once ----------------------------------------------


def _approve_together(
    app: Flask, request_id: str, approvers: list[Headers]
) -> list[tuple[int, str]]:
    """Each approver approves at once (released by one barrier): (status, request status)."""
    barrier = threading.Barrier(len(approvers))
    answers: list[tuple[int, str]] = []

    def approve(who: Headers) -> None:
        client = app.test_client()
        barrier.wait()
        reply = _approve(client, request_id, who)
        found = (reply.get_json() or {}).get("transition_request", {})
        answers.append((reply.status_code, found.get("status", "")))

    threads = [threading.Thread(target=approve, args=(who,)) for who in approvers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def test_simultaneous_final_approvals_move_the_version_once(
    auth_app: Flask, admin: FlaskClient, users: dict[str, Headers]
) -> None:
    _model(admin, ana="EDIT", bob="MANAGE", carol="MANAGE", dave="MANAGE")
    _policy(admin, 1)
    approvers = ("bob", "carol", "dave")
    for version in ("1", "2", "3"):
        request_id = _request(auth_app.test_client(), users["ana"], version)
        answers = _approve_together(auth_app, request_id, [users[w] for w in approvers])
        assert sorted(answers) == [(200, "approved"), (409, ""), (409, "")], answers

    with use_database(auth_app.extensions["registry"].database):
        events = events_after(0, model_name="fraud", limit=1000)
    moves = [e.data["version"] for e in events if e.event_type == "model_version.stage_changed"]
    approved = [e.data["version"] for e in events if e.event_type == "transition_request.approved"]
    assert moves == approved == ["1", "2", "3"]
    history = _ok(admin.get(f"{OURS}/registered-models/history?name=fraud"))["transitions"]
    assert sorted(t["version"] for t in history) == ["1", "2", "3"]
    # No archiving was asked: the three hold Production together, each moved once.
    assert _state(admin)[0] == ["Production", "Production", "Production"]


# --- 3. renaming or deleting a protected model ----------------------------------------------


def test_renaming_or_deleting_a_protected_model_needs_manage_then_an_admin(
    auth_app: Flask, admin: FlaskClient, users: dict[str, Headers]
) -> None:
    _model(admin, ana="EDIT", bob="MANAGE")
    _model(admin, name="spare", versions=0, ana="EDIT")
    client = auth_app.test_client()
    rename = f"{API}/registered-models/rename"
    # Nothing protected: EDIT renames, as before.
    _ok(client.post(rename, json={"name": "spare", "new_name": "spare2"}, headers=users["ana"]))

    _policy(admin, 0)
    away = {"name": "fraud", "new_name": "fraud-old"}
    _refused(client.post(rename, json=away, headers=users["ana"]), "MANAGE")
    _ok(client.post(rename, json=away, headers=users["bob"]))
    _ok(client.post(rename, json={"name": "fraud-old", "new_name": "fraud"}, headers=users["bob"]))

    _policy(admin, 1)
    for who in (users["ana"], users["bob"]):
        _refused(client.post(rename, json=away, headers=who), "only an admin")
        delete = client.delete(
            f"{API}/registered-models/delete", json={"name": "fraud"}, headers=who
        )
        _refused(delete, "only an admin")
    # The reviewer's path: rename away, create the name again, move without approval.
    _refused(
        client.post(
            MOVE,
            json={"name": "fraud", "version": "1", "stage": "Production"},
            headers=users["ana"],
        )
    )
    _ok(admin.post(rename, json=away))
    assert (
        _ok(admin.get(f"{OURS}/registered-models/protections?name=fraud-old"))["approvals_required"]
        == 1
    )


# --- 4. rollback and import -----------------------------------------------------------------


def test_a_rollback_into_a_target_that_needs_approvals_is_refused(
    auth_app: Flask, admin: FlaskClient, users: dict[str, Headers]
) -> None:
    _model(admin, ana="EDIT", bob="MANAGE")
    _policy(admin, 0)
    client = auth_app.test_client()
    for version in ("1", "2"):
        body = {
            "name": "fraud",
            "version": version,
            "stage": "Production",
            "archive_existing_versions": True,
        }
        _ok(client.post(MOVE, json=body, headers=users["bob"]))
    _ok(
        client.post(
            f"{API}/registered-models/alias",
            json={"name": "fraud", "alias": "champion", "version": "1"},
            headers=users["bob"],
        )
    )
    _ok(
        client.post(
            f"{API}/registered-models/alias",
            json={"name": "fraud", "alias": "champion", "version": "2"},
            headers=users["bob"],
        )
    )
    before = _state(admin)
    assert before == (["Archived", "Production", "None"], {"champion": "2"})

    _policy(admin, 1)
    rollback = f"{OURS}/registered-models/rollback"
    for body in ({"name": "fraud", "stage": "production "}, {"name": "fraud", "alias": "champion"}):
        _refused(
            client.post(rollback, json=body, headers=users["bob"]), "transition-requests/create"
        )
        _refused(admin.post(rollback, json=body), "transition-requests/create")
    browser, token = _ui(auth_app, "bob")
    for target in ("stage:Production", "alias:champion"):
        form = {"csrf_token": token, "target": target}
        _ui_refused(browser, "/models/fraud/rollback", form, "transition-requests/create")
    assert _state(admin) == before

    _policy(admin, 0)  # lowered by an admin: a manager rolls back directly again
    _ok(client.post(rollback, json={"name": "fraud", "alias": "champion"}, headers=users["bob"]))
    assert _state(admin)[1] == {"champion": "1"}


def _imported_version(version: int, stage: str) -> dict[str, Any]:
    return {
        "name": "fraud",
        "version": version,
        "creation_timestamp": 1,
        "last_updated_timestamp": 2,
        "current_stage": stage,
        "source": "runs:/r/m",
        "run_id": "r",
    }


def test_an_import_does_not_move_a_protected_target_of_a_model_that_needs_approvals(
    auth_app: Flask, admin: FlaskClient, users: dict[str, Headers]
) -> None:
    _model(admin, versions=2)
    _policy(admin, 1)
    imports = f"{OURS}/imports"
    refused = admin.post(f"{imports}/model-versions", json=_imported_version(1, "Production"))
    _refused(refused, "requires approvals")
    assert refused.get_json()["error_code"] == "PERMISSION_DENIED"
    aliases = {"name": "fraud", "aliases": {"champion": 1}, "timestamp": 3}
    _refused(admin.post(f"{imports}/aliases", json=aliases), "alias @champion")
    assert _state(admin) == (["None", "None"], {})

    # What is not protected imports as before, and so does a protected target already held.
    _ok(admin.post(f"{imports}/model-versions", json=_imported_version(2, "Staging")))
    _ok(admin.post(f"{imports}/aliases", json={**aliases, "aliases": {"challenger": 1}}))
    _policy(admin, 0)
    _ok(admin.post(f"{imports}/model-versions", json=_imported_version(1, "Production")))
    _ok(
        admin.post(
            f"{imports}/aliases", json={**aliases, "aliases": {"challenger": 1, "champion": 1}}
        )
    )
    _policy(admin, 1)
    _ok(admin.post(f"{imports}/model-versions", json=_imported_version(1, "Production")))
    _ok(
        admin.post(
            f"{imports}/aliases", json={**aliases, "aliases": {"challenger": 1, "champion": 1}}
        )
    )
    _refused(admin.post(f"{imports}/aliases", json={**aliases, "aliases": {"challenger": 1}}))
    assert _state(admin) == (["Production", "Staging"], {"challenger": "1", "champion": "1"})


# --- 5. an approval counts while its approver may approve ------------------------------------


def test_an_approval_counts_only_while_its_approver_is_still_eligible(
    auth_app: Flask,
    admin: FlaskClient,
    users: dict[str, Headers],
    make_user: Callable[..., Headers],
) -> None:
    _model(admin, ana="EDIT", bob="MANAGE", carol="MANAGE", dave="MANAGE")
    _policy(admin, 2)
    client = auth_app.test_client()
    request_id = _request(client, users["ana"], "1")
    _ok(_approve(client, request_id, users["bob"]))
    lowered = {"name": "fraud", "username": "bob", "permission": "READ"}
    _ok(admin.patch(f"{API}/registered-models/permissions/update", json=lowered))
    second = _ok(_approve(client, request_id, users["carol"]))["transition_request"]
    assert second["status"] == "open"
    assert _state(admin)[0] == ["None", "None", "None"]
    done = _ok(_approve(client, request_id, users["dave"]))["transition_request"]
    assert done["status"] == "approved"
    history = _ok(admin.get(f"{OURS}/registered-models/history?name=fraud"))["transitions"]
    assert "approved by carol, dave" in history[0]["comment"]

    # A group policy: an approver who left the group no longer counts.
    erin, frank = make_user(auth_app, "erin"), make_user(auth_app, "frank")
    _policy(admin, 2, approver_group="release")
    for name in ("erin", "frank", "dave"):
        _ok(admin.post(f"{OURS}/groups/add-member", json={"group": "release", "username": name}))
    request_id = _request(client, users["ana"], "2", alias="champion")
    _ok(_approve(client, request_id, erin))
    _ok(admin.post(f"{OURS}/groups/remove-member", json={"group": "release", "username": "erin"}))
    assert _ok(_approve(client, request_id, frank))["transition_request"]["status"] == "open"
    assert (
        _ok(_approve(client, request_id, users["dave"]))["transition_request"]["status"]
        == "approved"
    )
    assert _state(admin)[1] == {"champion": "2"}
