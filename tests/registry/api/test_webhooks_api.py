"""MLflow's webhook endpoints and our deliveries, on every engine, against a real receiver.

Deliveries are made by the real worker (``Dispatcher.run_once``), called here in the test's
thread (or two threads at once) instead of the server's background thread, so each test knows
when the worker has run.
"""

from __future__ import annotations

import base64
import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from registry.auth.passwords import hash_password
from registry.config import Config
from registry.services.webhooks import schedule
from registry.services.webhooks.crypto import generate_key
from registry.services.webhooks.dispatcher import Dispatcher
from registry.services.webhooks.settings import WebhookSettings
from registry.store import auth as auth_store
from registry.store import use_database, webhook_deliveries
from registry.store import webhooks as webhook_store
from registry.store.events import events_after
from registry.store.registered_models import now_ms
from registry.wire.events import EVENT_NAMES
from registry.wire.webhooks import event_to_wire
from tests.registry_factories import create_model, create_version, set_alias, transition
from tests.webhook_receiver import Receiver, running_receiver, trickling_receiver

HOOKS = "/api/2.0/mlflow/webhooks"
DELIVERIES = "/api/2.0/modelyard/webhooks/deliveries"
SECRET = "receiver-s3cret"
KEY = generate_key()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver(SECRET) as running:
        yield running


def basic(username: str, password: str) -> dict[str, str]:
    raw = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {raw}"}


def _make_app(url: str, root: Path, receiver: Receiver, **overrides: Any) -> Flask:
    from registry.server.app import create_app

    settings: dict[str, Any] = {
        "webhook_key": KEY,
        "webhook_allow": f"127.0.0.1:{receiver.port}",
        "webhook_retry_base_seconds": 0.0,  # a failed attempt is due again at once
        **overrides,
    }
    config = Config(database_url=url, artifact_root=str(root), **settings)
    application = create_app(config)
    application.config["TESTING"] = True
    return application


def _close(application: Flask) -> None:
    database = application.extensions["registry"].database
    close_all = getattr(database, "close_all", None)
    if close_all is not None:
        close_all()


@pytest.fixture
def hooks_app(db_url: str, artifact_root: Path, receiver: Receiver) -> Iterator[Flask]:
    application = _make_app(db_url, artifact_root, receiver)
    yield application
    _close(application)


@pytest.fixture
def patient_app(db_url: str, artifact_root: Path, receiver: Receiver) -> Iterator[Flask]:
    """The app with a failed attempt due again only in an hour (never within a test)."""
    application = _make_app(db_url, artifact_root, receiver, webhook_retry_base_seconds=3600.0)
    yield application
    _close(application)


@pytest.fixture
def api(hooks_app: Flask) -> FlaskClient:
    return hooks_app.test_client()


@pytest.fixture
def sqlite_api(sqlite_url: str, artifact_root: Path, receiver: Receiver) -> Iterator[FlaskClient]:
    """The app on SQLite only: for what the request's checks decide, whatever the engine."""
    application = _make_app(sqlite_url, artifact_root, receiver)
    yield application.test_client()
    _close(application)


def _events(*names: str) -> list[dict[str, str]]:
    return [event_to_wire(name) for name in names]


def _create(api: FlaskClient, receiver: Receiver, **extra: Any) -> dict[str, Any]:
    body = {
        "name": "ci-hook",
        "url": receiver.url,
        "events": _events(*sorted(EVENT_NAMES)),
        "secret": SECRET,
        **extra,
    }
    response = api.post(HOOKS, json=body)
    assert response.status_code == 200, response.json
    return response.json["webhook"]  # type: ignore[no-any-return,index]


def _work(app: Flask, workers: int = 1) -> None:
    """Run the delivery worker(s) until nothing is due."""
    settings = WebhookSettings.from_config(app.extensions["registry"].config)
    database = app.extensions["registry"].database

    def drain() -> None:
        dispatcher = Dispatcher(settings, database)
        while dispatcher.run_once():
            pass

    threads = [threading.Thread(target=drain) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    drain()  # a model's next event may have come due just as another thread stopped


def _deliveries(api: FlaskClient, webhook_id: str, **query: Any) -> list[dict[str, Any]]:
    response = api.get(DELIVERIES, query_string={"webhook_id": webhook_id, **query})
    assert response.status_code == 200, response.json
    return response.json.get("deliveries", [])  # type: ignore[no-any-return,union-attr]


def test_webhooks_are_created_read_listed_updated_and_deleted_in_mlflows_shapes(
    api: FlaskClient, receiver: Receiver
) -> None:
    hook = _create(api, receiver, description="to CI")
    assert set(hook) == {
        "webhook_id",
        "name",
        "description",
        "url",
        "events",
        "status",
        "creation_timestamp",
        "last_updated_timestamp",
    }
    assert hook["status"] == "ACTIVE"
    assert {"entity": "MODEL_VERSION", "action": "STAGE_CHANGED"} in hook["events"]
    second = _create(api, receiver, name="second", events=_events("model_version.created"))
    got = api.get(f"{HOOKS}/{hook['webhook_id']}").json["webhook"]
    assert got == hook

    first_page = api.get(HOOKS, query_string={"max_results": 1}).json
    assert [h["webhook_id"] for h in first_page["webhooks"]] == [second["webhook_id"]]
    rest = api.get(HOOKS, query_string={"page_token": first_page["next_page_token"]}).json
    assert [h["webhook_id"] for h in rest["webhooks"]] == [hook["webhook_id"]]
    assert "next_page_token" not in rest

    changed = api.patch(
        f"{HOOKS}/{hook['webhook_id']}",
        json={"name": "", "description": "", "status": "DISABLED", "events": []},
    ).json["webhook"]
    assert changed["name"] == "ci-hook"  # an empty name, as MLflow reads it, changes nothing
    assert changed["events"] == hook["events"]
    assert changed["status"] == "DISABLED"
    assert "description" not in changed

    assert api.delete(f"{HOOKS}/{hook['webhook_id']}").json == {}
    missing = api.get(f"{HOOKS}/{hook['webhook_id']}")
    assert missing.status_code == 404
    assert missing.json["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    assert [h["webhook_id"] for h in api.get(HOOKS).json["webhooks"]] == [second["webhook_id"]]


@pytest.mark.parametrize(
    "change",
    [
        {"name": "Bad Name!"},
        {"events": []},
        {"events": [{"entity": "REGISTERED_MODEL", "action": "EXPLODED"}]},
        {"status": "PAUSED"},
        {"url": "http://example.com/hook"},
        {"url": "https://169.254.169.254/latest/meta-data"},
        {"url": ""},
    ],
)
def test_bad_webhooks_are_400s_and_nothing_is_stored(
    sqlite_api: FlaskClient, receiver: Receiver, change: dict[str, Any]
) -> None:
    body = {"name": "hook", "url": receiver.url, "events": _events("model_version.created")}
    response = sqlite_api.post(HOOKS, json={**body, **change})
    assert response.status_code == 400, response.json
    assert response.json["error_code"] == "INVALID_PARAMETER_VALUE"
    assert sqlite_api.get(HOOKS).json == {}


def test_listing_refuses_a_page_size_out_of_range(sqlite_api: FlaskClient) -> None:
    response = sqlite_api.get(HOOKS, query_string={"max_results": 1001})
    assert response.status_code == 400
    assert response.json["error_code"] == "INVALID_PARAMETER_VALUE"


def test_the_secret_is_never_answered_and_is_stored_encrypted(
    hooks_app: Flask, api: FlaskClient, receiver: Receiver
) -> None:
    hook = _create(api, receiver)
    assert SECRET not in str(api.get(HOOKS).json)
    assert SECRET not in str(api.get(f"{HOOKS}/{hook['webhook_id']}").json)
    with use_database(hooks_app.extensions["registry"].database):
        stored = webhook_store.get_webhook(hook["webhook_id"]).secret
    assert stored and SECRET not in stored


def test_without_a_key_webhooks_cannot_be_created(
    sqlite_url: str, artifact_root: Path, receiver: Receiver
) -> None:
    application = _make_app(sqlite_url, artifact_root, receiver, webhook_key="")
    response = application.test_client().post(
        HOOKS, json={"name": "h", "url": receiver.url, "events": _events("model_version.created")}
    )
    _close(application)
    assert response.status_code == 400
    assert "MODELYARD_WEBHOOK_KEY" in response.json["message"]


def test_the_test_endpoint_sends_a_signed_example_now(api: FlaskClient, receiver: Receiver) -> None:
    hook = _create(api, receiver, events=_events("model_version_alias.created"))
    result = api.post(f"{HOOKS}/{hook['webhook_id']}/test", json={}).json["result"]
    assert result == {"success": True, "response_status": 200, "response_body": "ok"}
    (sent,) = receiver.received
    assert sent.signed
    assert sent.payload["entity"] == "model_version_alias"
    assert sent.payload["data"]["alias"]


def test_only_admins_manage_webhooks_under_auth(
    sqlite_url: str, artifact_root: Path, receiver: Receiver
) -> None:
    application = _make_app(sqlite_url, artifact_root, receiver, auth=True)
    with use_database(application.extensions["registry"].database):
        auth_store.create_user("root", hash_password("root-password-1"), is_admin=True)
        auth_store.create_user("ana", hash_password("ana-password-1"))
    client = application.test_client()
    body = {"name": "h", "url": receiver.url, "events": _events("model_version.created")}
    ana = basic("ana", "ana-password-1")
    refused = [
        client.post(HOOKS, json=body, headers=ana).status_code,
        client.get(HOOKS, headers=ana).status_code,
        client.get(DELIVERIES, query_string={"webhook_id": "x"}, headers=ana).status_code,
    ]
    created = client.post(HOOKS, json=body, headers=basic("root", "root-password-1"))
    _close(application)
    assert refused == [403, 403, 403]
    assert created.status_code == 200


def _registry_changes(api: FlaskClient) -> None:
    for name in ("alpha", "beta"):
        create_model(api, name)
        for _ in range(2):
            create_version(api, name)
        api.post(
            "/api/2.0/mlflow/model-versions/set-tag",
            json={"name": name, "version": "1", "key": "team", "value": "fraud"},
        )
        set_alias(api, "champion", "1", name)
        set_alias(api, "champion", "2", name)
        transition(api, "2", "Production", name)
        transition(api, "2", "Archived", name)


def test_every_event_is_delivered_once_signed_and_in_order_per_model(
    hooks_app: Flask, api: FlaskClient, receiver: Receiver
) -> None:
    hook = _create(api, receiver)
    _registry_changes(api)
    _work(hooks_app, workers=2)

    with use_database(hooks_app.extensions["registry"].database):
        stream = events_after(0, limit=1000)
    assert len(stream) >= 16
    got = receiver.answered_ok()
    assert len({r.delivery_id for r in got}) == len(got) == len(stream)
    assert all(r.signed for r in got)
    for name in ("alpha", "beta"):
        expected = [(e.event_type, e.data) for e in stream if e.model_name == name]
        seen = [
            (f"{r.payload['entity']}.{r.payload['action']}", r.payload["data"])
            for r in got
            if r.payload["data"]["name"] == name
        ]
        assert seen == expected
    listed = _deliveries(api, hook["webhook_id"], max_results=1000)
    assert {d["status"] for d in listed} == {"delivered"}
    assert {d["attempts"] for d in listed} == {1}


def test_a_failed_delivery_is_retried_and_holds_back_its_models_later_events(
    hooks_app: Flask, api: FlaskClient, receiver: Receiver
) -> None:
    hook = _create(
        api, receiver, events=_events("registered_model.created", "model_version.created")
    )
    failures = {"left": 1}

    def answer(_received: Any) -> int:
        if failures["left"]:
            failures["left"] -= 1
            return 500
        return 200

    receiver.answer = answer
    create_model(api, "alpha")
    create_version(api, "alpha")
    settings = WebhookSettings.from_config(hooks_app.extensions["registry"].config)
    dispatcher = Dispatcher(settings, hooks_app.extensions["registry"].database)
    assert dispatcher.run_once() == 1  # the model's first event only: it fails
    assert [r.status for r in receiver.received] == [500]
    waiting = {d["event"]: d for d in _deliveries(api, hook["webhook_id"], status="pending")}
    assert waiting["registered_model.created"]["attempts"] == 1
    assert waiting["registered_model.created"]["last_status_code"] == 500
    assert "next_attempt_timestamp" in waiting["registered_model.created"]
    assert waiting["model_version.created"]["attempts"] == 0

    _work(hooks_app)
    entities = [r.payload["entity"] for r in receiver.received]
    assert entities == ["registered_model", "registered_model", "model_version"]
    listed = {d["event"]: d for d in _deliveries(api, hook["webhook_id"])}
    created = listed["registered_model.created"]
    assert created["attempts"] == 2
    assert created["last_status_code"] == 200
    assert created["status"] == "delivered"
    assert len({r.delivery_id for r in receiver.received[:2]}) == 1  # a retry keeps its id


def test_a_delivery_out_of_attempts_is_failed_and_can_be_redelivered(
    hooks_app: Flask, api: FlaskClient, receiver: Receiver
) -> None:
    hook = _create(api, receiver, events=_events("registered_model.created"))
    receiver.answer = lambda _r: 503
    create_model(api, "alpha")
    _work(hooks_app)
    (failed,) = _deliveries(api, hook["webhook_id"])
    assert failed["status"] == "failed"
    assert failed["attempts"] == schedule.MAX_ATTEMPTS
    assert failed["last_status_code"] == 503
    assert "HTTP 503" in failed["last_error"]

    receiver.answer = lambda _r: 200
    again = api.post(f"{DELIVERIES}/redeliver", json={"delivery_id": failed["delivery_id"]})
    assert again.json["delivery"]["status"] == "pending"
    _work(hooks_app)
    (done,) = _deliveries(api, hook["webhook_id"])
    assert done["status"] == "delivered"
    assert receiver.received[-1].delivery_id == failed["delivery_id"]
    missing = api.post(f"{DELIVERIES}/redeliver", json={"delivery_id": "no-such-delivery"})
    assert missing.status_code == 404


def test_a_disabled_webhook_gets_nothing_and_a_new_one_nothing_from_before(
    hooks_app: Flask, api: FlaskClient, receiver: Receiver
) -> None:
    create_model(api, "before")
    hook = _create(api, receiver, events=_events("registered_model.created"), status="DISABLED")
    create_model(api, "while-disabled")
    _work(hooks_app)
    api.patch(f"{HOOKS}/{hook['webhook_id']}", json={"status": "ACTIVE"})
    create_model(api, "after")
    _work(hooks_app)
    assert [r.payload["data"]["name"] for r in receiver.received] == ["after"]


def _dispatcher(app: Flask) -> Dispatcher:
    settings = WebhookSettings.from_config(app.extensions["registry"].config)
    return Dispatcher(settings, app.extensions["registry"].database)


def test_a_slow_receiver_is_cut_off_at_the_deadline_and_not_sent_twice(
    sqlite_url: str, artifact_root: Path, receiver: Receiver
) -> None:
    with trickling_receiver(interval=0.2) as slow:
        application = _make_app(
            sqlite_url,
            artifact_root,
            receiver,
            webhook_allow=f"127.0.0.1:{slow.port}",
            webhook_timeout_seconds=0.5,
            webhook_retry_base_seconds=3600.0,
        )
        api = application.test_client()
        hook = _create(api, receiver, url=slow.url, events=_events("registered_model.created"))
        create_model(api, "alpha")
        first, second = _dispatcher(application), _dispatcher(application)
        claimed: list[int] = []
        sending = threading.Thread(target=lambda: claimed.append(first.run_once()))
        sending.start()
        slow.got_request.wait()
        while sending.is_alive():  # another worker polls all the while the first one sends
            claimed.append(second.run_once())
            sending.join(0.05)
        (delivery,) = _deliveries(api, hook["webhook_id"])
        _close(application)
    assert sum(claimed) == 1
    assert (slow.requests, slow.cut_off, slow.answered) == (1, 1, 0)
    assert delivery["status"] == "pending"
    assert delivery["attempts"] == 1
    assert "deadline" in delivery["last_error"]


def test_an_attempt_whose_lease_was_lost_is_not_recorded_and_is_logged(
    sqlite_url: str, artifact_root: Path, receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    application = _make_app(sqlite_url, artifact_root, receiver)
    api = application.test_client()
    database = application.extensions["registry"].database
    hook = _create(api, receiver, events=_events("registered_model.created"))
    create_model(api, "alpha")
    worker = _dispatcher(application)
    taken: list[str] = []

    def reclaimed_meanwhile(_received: Any) -> int:
        # While the worker waits for this answer, another worker takes the delivery over, as
        # one would once the lease had run out.
        with use_database(database), database.connection_context():
            later = now_ms() + worker.lease_ms + 1
            claimed = webhook_deliveries.claim_due("other-worker", later, worker.lease_ms)
            taken.extend(row.delivery_id for row in claimed)
        return 200

    receiver.answer = reclaimed_meanwhile
    with caplog.at_level(logging.WARNING, logger="registry.services.webhooks"):
        assert worker.run_once() == 1
    with use_database(database), database.connection_context():
        (row,) = webhook_deliveries.list_deliveries(hook["webhook_id"], None, 10, 0).deliveries
    _close(application)
    assert taken == [row.delivery_id]
    assert (row.status, row.attempts, row.lease_owner) == ("pending", 0, "other-worker")
    (warning,) = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert row.delivery_id in warning.getMessage()
    assert "lease" in warning.getMessage()
    assert SECRET not in caplog.text
    assert receiver.url not in caplog.text


def test_a_renamed_models_events_wait_for_those_under_its_old_name(
    patient_app: Flask, receiver: Receiver
) -> None:
    api = patient_app.test_client()
    hook = _create(
        api, receiver, events=_events("registered_model.created", "registered_model.renamed")
    )
    receiver.answer = lambda _r: 500
    create_model(api, "alpha")
    renamed = api.post(
        "/api/2.0/mlflow/registered-models/rename", json={"name": "alpha", "new_name": "omega"}
    )
    assert renamed.status_code == 200, renamed.json
    worker = _dispatcher(patient_app)
    assert worker.run_once() == 1  # created, under the old name: it fails
    assert worker.run_once() == 0  # the rename waits for it
    assert [r.payload["action"] for r in receiver.received] == ["created"]
    waiting = {d["event"]: d for d in _deliveries(api, hook["webhook_id"])}
    assert waiting["registered_model.renamed"]["attempts"] == 0


def test_a_redelivered_old_event_does_not_hold_back_later_ones(
    patient_app: Flask, receiver: Receiver
) -> None:
    api = patient_app.test_client()
    hook = _create(
        api, receiver, events=_events("registered_model.created", "model_version.created")
    )
    create_model(api, "alpha")
    _work(patient_app)
    (created,) = _deliveries(api, hook["webhook_id"], status="delivered")
    receiver.answer = lambda _r: 503  # the receiver goes down
    again = api.post(f"{DELIVERIES}/redeliver", json={"delivery_id": created["delivery_id"]})
    assert again.json["delivery"]["status"] == "pending"
    create_version(api, "alpha")
    worker = _dispatcher(patient_app)
    assert worker.run_once() == 1  # the redelivery: it fails, and waits an hour for its retry
    assert worker.run_once() == 1  # the version's event is not held back behind it
    assert [r.payload["entity"] for r in receiver.received] == [
        "registered_model",
        "registered_model",
        "model_version",
    ]


def test_the_test_endpoint_answers_the_kept_excerpt_of_a_long_answer(
    sqlite_api: FlaskClient, receiver: Receiver
) -> None:
    hook = _create(sqlite_api, receiver, events=_events("model_version.created"))
    receiver.body_out = b"x" * 3000
    result = sqlite_api.post(f"{HOOKS}/{hook['webhook_id']}/test", json={}).json["result"]
    assert result["response_body"] == "x" * 1000
