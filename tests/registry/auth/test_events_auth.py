"""The event stream under --auth: READ on the model, or only the events of readable models."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient

from tests.registry.auth.conftest import ADMIN_PASSWORD, basic

API = "/api/2.0/mlflow"
EVENTS = "/api/2.0/modelyard/events"


def _names(client: FlaskClient, headers: dict[str, str], **query: object) -> list[str]:
    response = client.get(EVENTS, query_string={"after": 0, **query}, headers=headers)
    assert response.status_code == 200, response.get_json()
    return [event["model_name"] for event in response.get_json()["events"]]


def test_a_user_reads_only_the_events_of_models_they_may_read(
    closed_auth_app: Flask, make_user: Callable[..., dict[str, str]]
) -> None:
    ana, bob = make_user(closed_auth_app, "ana"), make_user(closed_auth_app, "bob")
    client = closed_auth_app.test_client()
    for name, who in (("ana-model", ana), ("bob-model", bob), ("ana-model-2", ana)):
        created = client.post(f"{API}/registered-models/create", json={"name": name}, headers=who)
        assert created.status_code == 200, created.get_json()

    assert _names(client, bob) == ["bob-model"]
    assert _names(client, ana) == ["ana-model", "ana-model-2"]
    assert _names(client, basic("admin", ADMIN_PASSWORD)) == [
        "ana-model",
        "bob-model",
        "ana-model-2",
    ]
    refused = client.get(EVENTS, query_string={"after": 0, "model": "ana-model"}, headers=bob)
    assert refused.status_code == 403
    assert refused.get_json()["error_code"] == "PERMISSION_DENIED"
    assert _names(client, ana, model="ana-model") == ["ana-model"]
    # the cursor moves past what bob may not read, so his next long-poll waits for new events
    everything = client.get(
        EVENTS, query_string={"after": 0}, headers=basic("admin", ADMIN_PASSWORD)
    )
    ids = [event["id"] for event in everything.get_json()["events"]]
    page = client.get(EVENTS, query_string={"after": ids[1]}, headers=bob).get_json()
    assert page == {"events": [], "next_after": ids[2]}
    assert client.get(EVENTS, query_string={"after": 0}).status_code == 401


def test_a_deleted_models_events_stay_hidden_from_the_user_who_gets_its_id(
    closed_auth_app: Flask, make_user: Callable[..., dict[str, str]]
) -> None:
    ana, bob = make_user(closed_auth_app, "ana"), make_user(closed_auth_app, "bob")
    client = closed_auth_app.test_client()
    created = client.post(
        f"{API}/registered-models/create",
        json={"name": "secret", "tags": [{"key": "k", "value": "classified"}]},
        headers=ana,
    )
    assert created.status_code == 200, created.get_json()
    deleted = client.delete(f"{API}/registered-models/delete", json={"name": "secret"}, headers=ana)
    assert deleted.status_code == 200, deleted.get_json()
    # SQLite gives bob's model the id "secret" had
    created = client.post(f"{API}/registered-models/create", json={"name": "bobs"}, headers=bob)
    assert created.status_code == 200, created.get_json()

    assert _names(client, bob) == ["bobs"]
    assert _names(client, basic("admin", ADMIN_PASSWORD)) == ["secret", "secret", "bobs"]


def test_a_denial_keeps_guarding_a_models_events_after_the_model_is_deleted(
    auth_app: Flask, make_user: Callable[..., dict[str, str]]
) -> None:
    ana, bob = make_user(auth_app, "ana"), make_user(auth_app, "bob")
    admin = basic("admin", ADMIN_PASSWORD)
    client = auth_app.test_client()
    for name in ("secret", "open"):
        created = client.post(f"{API}/registered-models/create", json={"name": name}, headers=ana)
        assert created.status_code == 200, created.get_json()
    denied = client.post(
        f"{API}/registered-models/permissions/create",
        json={"name": "secret", "username": "bob", "permission": "NO_PERMISSIONS"},
        headers=admin,
    )
    assert denied.status_code == 200, denied.get_json()
    assert _names(client, bob) == ["open"]

    deleted = client.delete(f"{API}/registered-models/delete", json={"name": "secret"}, headers=ana)
    assert deleted.status_code == 200, deleted.get_json()

    assert _names(client, bob) == ["open"]
    assert _names(client, admin) == ["secret", "open", "secret"]
