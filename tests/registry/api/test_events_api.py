"""The event stream: every registry change records its events, read back through the endpoint."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from registry.config import Config
from registry.server.app import create_app
from tests.conftest import _close_database
from tests.registry_factories import API, OURS, create_model, create_version, set_alias, transition

EVENTS = f"{OURS}/events"
ROLLBACK = f"{OURS}/registered-models/rollback"


def _events(client: FlaskClient, after: int = 0, **query: Any) -> list[dict[str, Any]]:
    response = client.get(EVENTS, query_string={"after": after, "max_results": 1000, **query})
    assert response.status_code == 200, response.json
    return response.json["events"]  # type: ignore[no-any-return]


def _summary(events: list[dict[str, Any]]) -> list[tuple[str, str | None]]:
    return [(e["event"], e.get("version")) for e in events]


def _ok(response: Any) -> None:
    assert response.status_code == 200, response.json


def test_every_change_records_its_events_in_order_with_mlflows_payloads(
    client: FlaskClient,
) -> None:
    create_model(client, tags=[{"key": "team", "value": "risk"}], description="fraud model")
    run_id = "a" * 32
    create_version(
        client,
        source=f"runs:/{run_id}/model",
        run_id=run_id,
        tags=[{"key": "data", "value": "2026-11"}],
        description="first",
    )
    create_version(client)
    ana = {"X-Modelyard-User": "ana"}
    model = {"name": "m1"}
    v1 = {**model, "version": "1"}
    _ok(client.post(f"{API}/registered-models/set-tag", json={**model, "key": "k", "value": "v"}))
    _ok(client.delete(f"{API}/registered-models/delete-tag", json={**model, "key": "k"}))
    body = {**v1, "key": "k", "value": "v"}
    _ok(client.post(f"{API}/model-versions/set-tag", json=body, headers=ana))
    _ok(client.delete(f"{API}/model-versions/delete-tag", json={**v1, "key": "k"}))
    _ok(client.patch(f"{API}/registered-models/update", json={**model, "description": "d"}))
    _ok(client.patch(f"{API}/model-versions/update", json={**v1, "description": "d1"}))
    transition(client, "1", "Production")
    transition(client, "2", "Production", archive=True)
    set_alias(client, "champion", "1")
    set_alias(client, "champion", "2")
    _ok(client.delete(f"{API}/registered-models/alias", json={**model, "alias": "champion"}))
    _ok(client.post(ROLLBACK, json={**model, "stage": "Production"}))
    _ok(client.delete(f"{API}/model-versions/delete", json={**model, "version": "2"}))
    _ok(client.post(f"{API}/registered-models/rename", json={**model, "new_name": "m2"}))
    _ok(client.delete(f"{API}/registered-models/delete", json={"name": "m2"}))

    events = _events(client)
    assert _summary(events) == [
        ("registered_model.created", None),
        ("model_version.created", "1"),
        ("model_version.created", "2"),
        ("registered_model_tag.set", None),
        ("registered_model_tag.deleted", None),
        ("model_version_tag.set", "1"),
        ("model_version_tag.deleted", "1"),
        ("registered_model.updated", None),
        ("model_version.updated", "1"),
        ("model_version.stage_changed", "1"),
        ("model_version.stage_changed", "1"),  # archived by the promotion of 2
        ("model_version.stage_changed", "2"),
        ("model_version_alias.created", "1"),
        ("model_version_alias.created", "2"),  # moved
        ("model_version_alias.deleted", "2"),
        ("model_version.stage_changed", "2"),  # rollback: 2 leaves Production
        ("model_version.stage_changed", "1"),  # ... and 1 gets it back
        ("model_version.deleted", "2"),
        ("registered_model.renamed", None),
        ("registered_model.deleted", None),
    ]
    ids = [e["id"] for e in events]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    data = [e["data"] for e in events]
    # MLflow's six payloads (mlflow/webhooks/types.py), field for field
    assert data[0] == {"name": "m1", "tags": {"team": "risk"}, "description": "fraud model"}
    assert data[1] == {
        "name": "m1",
        "version": "1",
        "source": f"runs:/{run_id}/model",
        "run_id": run_id,
        "tags": {"data": "2026-11"},
        "description": "first",
    }
    assert data[2]["run_id"] is None and data[2]["tags"] == {} and data[2]["description"] is None
    assert data[5] == {"name": "m1", "version": "1", "key": "k", "value": "v"}
    assert events[5]["user_id"] == "ana"
    assert data[6] == {"name": "m1", "version": "1", "key": "k"}
    assert _mlflow_part(data[12], "name", "alias", "version") == {
        "name": "m1",
        "alias": "champion",
        "version": "1",
    }
    assert data[12]["previous_version"] is None and data[13]["previous_version"] == "1"
    assert _mlflow_part(data[14], "name", "alias") == {"name": "m1", "alias": "champion"}
    # ours
    assert data[3] == {"name": "m1", "key": "k", "value": "v"}
    assert data[4] == {"name": "m1", "key": "k"}
    assert data[7] == {"name": "m1", "description": "d", "exclusive_stages": False}
    assert data[8] == {"name": "m1", "version": "1", "description": "d1"}
    stage_moves = [(d["from_stage"], d["to_stage"]) for d in data[9:12] + data[15:17]]
    assert stage_moves == [
        ("None", "Production"),
        ("Production", "Archived"),
        ("None", "Production"),
        ("Production", "None"),
        ("Archived", "Production"),
    ]
    assert data[15]["rollback_of"] == data[11]["transition_id"] == data[16]["rollback_of"]
    assert data[17] == {"name": "m1", "version": "2"}
    assert (events[18]["model_name"], data[18]) == ("m2", {"name": "m2", "old_name": "m1"})
    assert (events[19]["model_name"], data[19]) == ("m2", {"name": "m2"})


def _mlflow_part(data: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {key: data[key] for key in keys}


def test_history_entries_and_stream_events_are_the_same_moves(sqlite_client: FlaskClient) -> None:
    create_model(sqlite_client)
    create_version(sqlite_client)
    create_version(sqlite_client)
    transition(sqlite_client, "1", "Staging")
    transition(sqlite_client, "2", "Staging", archive=True)
    set_alias(sqlite_client, "champion", "2")
    query = {"name": "m1", "max_results": 100}
    history = sqlite_client.get(f"{OURS}/registered-models/history", query_string=query)
    entries = history.json["transitions"][::-1]
    moves = [e for e in _events(sqlite_client) if "transition_id" in e["data"]]
    assert [m["data"]["transition_id"] for m in moves] == [int(e["id"]) for e in entries]
    assert [m["version"] for m in moves] == [e["version"] for e in entries]


def test_a_change_that_fails_or_rolls_back_leaves_no_event(client: FlaskClient) -> None:
    create_model(client)
    create_version(client)
    create_version(client)
    transition(client, "1", "Production")
    transition(client, "2", "Production", archive=True)
    _ok(client.delete(f"{API}/model-versions/delete", json={"name": "m1", "version": "1"}))
    before = _events(client)

    # moves version 2 out of Production, then finds version 1 deleted: the whole change undone
    refused = client.post(ROLLBACK, json={"name": "m1", "stage": "Production"})
    assert refused.status_code == 409
    assert client.post(f"{API}/registered-models/create", json={"name": "m1"}).status_code == 400
    missing_tag = {"name": "m1", "key": "nope"}
    assert client.delete(f"{API}/registered-models/delete-tag", json=missing_tag).status_code == 404
    body = {"name": "m1", "version": "2", "stage": "Nowhere"}
    assert client.post(f"{API}/model-versions/transition-stage", json=body).status_code == 400

    assert _events(client) == before
    version = client.get(f"{API}/model-versions/get", query_string={"name": "m1", "version": "2"})
    assert version.json["model_version"]["current_stage"] == "Production"


def test_the_cursor_pages_filters_by_model_and_starts_from_now(sqlite_client: FlaskClient) -> None:
    start = sqlite_client.get(EVENTS).json
    assert start == {"events": [], "next_after": 0}
    create_model(sqlite_client, "a")
    create_model(sqlite_client, "b")
    create_version(sqlite_client, "a")

    first = sqlite_client.get(EVENTS, query_string={"after": 0, "max_results": 2}).json
    assert [e["model_name"] for e in first["events"]] == ["a", "b"]
    rest = sqlite_client.get(EVENTS, query_string={"after": first["next_after"]}).json
    assert _summary(rest["events"]) == [("model_version.created", "1")]
    assert rest["next_after"] == rest["events"][0]["id"]
    only_a = _events(sqlite_client, model="a")
    assert [e["event"] for e in only_a] == ["registered_model.created", "model_version.created"]
    now = sqlite_client.get(EVENTS).json
    assert now == {"events": [], "next_after": rest["next_after"]}
    # nothing of model b after its creation: the cursor still moves to the newest id
    quiet = sqlite_client.get(EVENTS, query_string={"after": first["next_after"], "model": "b"})
    assert quiet.json == {"events": [], "next_after": rest["next_after"]}


@pytest.mark.parametrize(
    "query",
    [
        {"after": -1},
        {"after": "x"},
        {"after": "99999999999999999999999"},
        {"after": 2**63},
        {"wait_seconds": 31},
        {"max_results": 0},
        {"model": ""},
    ],
)
def test_bad_queries_are_400(sqlite_client: FlaskClient, query: dict[str, Any]) -> None:
    response = sqlite_client.get(EVENTS, query_string={"after": 0, **query})
    assert response.status_code == 400
    assert response.json["error_code"] == "INVALID_PARAMETER_VALUE"


def test_a_long_poll_answers_with_the_event_that_commits_while_it_waits(
    client: FlaskClient,
) -> None:
    app: Flask = client.application
    create_model(client)
    create_version(client)
    cursor = client.get(EVENTS).json["next_after"]
    answers: list[dict[str, Any]] = []

    def wait() -> None:
        query = {"after": cursor, "model": "m1", "wait_seconds": 25}
        answers.append(app.test_client().get(EVENTS, query_string=query).json)

    waiter = threading.Thread(target=wait)
    waiter.start()
    time.sleep(0.3)  # let it start waiting: an answer before the promotion would have no event
    create_model(client, "other")  # another model's event does not answer a model's long-poll
    transition(client, "1", "Production")
    waiter.join(30)

    (answer,) = answers
    assert _summary(answer["events"]) == [("model_version.stage_changed", "1")]
    assert answer["next_after"] == answer["events"][0]["id"]


def test_a_long_poll_with_nothing_new_answers_empty_when_its_time_is_up(
    sqlite_client: FlaskClient,
) -> None:
    create_model(sqlite_client)
    cursor = sqlite_client.get(EVENTS).json["next_after"]
    query = {"after": cursor, "wait_seconds": 0.2}
    answer = sqlite_client.get(EVENTS, query_string=query).json
    assert answer == {"events": [], "next_after": cursor}


def test_a_cursor_ahead_of_the_stream_comes_back_to_its_newest_event(
    sqlite_client: FlaskClient,
) -> None:
    # what a follower holds after the registry's database is restored from an older backup
    create_model(sqlite_client)
    newest = sqlite_client.get(EVENTS).json["next_after"]
    for query in ({}, {"model": "m1"}, {"wait_seconds": 30}):
        ahead = {"after": newest + 1000, **query}
        answer = sqlite_client.get(EVENTS, query_string=ahead).json
        assert answer == {"events": [], "next_after": newest}
    create_model(sqlite_client, "m2")
    (event,) = _events(sqlite_client, after=newest)
    assert event["model_name"] == "m2"


@pytest.fixture
def no_waiting_client(sqlite_url: str, artifact_root: Path) -> Iterator[FlaskClient]:
    """A registry whose long-polls may not wait at all (``events_max_waiters`` 0)."""
    config = Config(database_url=sqlite_url, artifact_root=str(artifact_root), events_max_waiters=0)
    application = create_app(config)
    yield application.test_client()
    _close_database(application.extensions["registry"].database)


def test_a_long_poll_over_the_waiter_cap_is_refused_with_a_503_to_retry(
    no_waiting_client: FlaskClient,
) -> None:
    create_model(no_waiting_client)
    cursor = no_waiting_client.get(EVENTS).json["next_after"]
    refused = no_waiting_client.get(EVENTS, query_string={"after": cursor, "wait_seconds": 5})
    assert refused.status_code == 503
    assert refused.json["error_code"] == "TEMPORARILY_UNAVAILABLE"
    assert int(refused.headers["Retry-After"]) >= 1
    # what needs no wait is answered as ever
    for query in ({"after": cursor}, {"after": 0, "wait_seconds": 5}):
        answered = no_waiting_client.get(EVENTS, query_string=query)
        assert answered.status_code == 200, answered.json
    assert [e["model_name"] for e in _events(no_waiting_client, wait_seconds=5)] == ["m1"]
