"""Webhooks through real ``modelyard server`` processes: the official client manages them, and
a receiver on 127.0.0.1 gets every event once, signed, in order per model, across a crash and
restart in the middle of the retries."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from registry.client import Client
from registry.services.webhooks.crypto import generate_key
from registry.store import close_database, open_database, use_database
from registry.store.events import events_after
from registry.wire.events import EVENT_NAMES
from tests.conftest import free_port
from tests.mlflow_env import run_official_client
from tests.servers import process, registry_server, server_args, stop
from tests.webhook_receiver import Receiver, running_receiver

pytestmark = pytest.mark.e2e

SCRIPTS = Path(__file__).parent.parent / "compat" / "scripts"
SECRET = "e2e-receiver-secret"


def _env(receiver: Receiver, key: str) -> dict[str, str]:
    return {
        "MODELYARD_WEBHOOK_KEY": key,
        "MODELYARD_WEBHOOK_ALLOW": f"127.0.0.1:{receiver.port}",
        "REGISTRY_WEBHOOK_RETRY_BASE_SECONDS": "0.5",
        "REGISTRY_WEBHOOK_POLL_SECONDS": "0.1",
        # a crashed worker's claim ends with its lease: the timeout and 5 s
        "REGISTRY_WEBHOOK_TIMEOUT_SECONDS": "1",
    }


def _until(condition: Any, what: str, state: Any = None, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}: {state() if state else ''}")


@pytest.mark.compat
def test_the_official_client_manages_webhooks(tmp_path: Path) -> None:
    with running_receiver() as receiver:
        env = _env(receiver, generate_key())
        with registry_server(tmp_path, workers=1, extra_env=env) as base:
            seen = run_official_client(
                SCRIPTS / "webhooks_official.py", base, tmp_path, receiver.url
            )
    assert seen["created"] == {
        "name": "official-hook",
        "url": receiver.url,
        "events": ["model_version.created", "registered_model.created"],
        "status": "ACTIVE",
        "description": "from the official client",
        "secret": None,
    }
    first, second, more = seen["pages"]
    assert (first, second, more) == ([seen["ids"][0]], [seen["ids"][1]], True)
    assert seen["got"] == "official-hook"
    assert seen["updated"] == {
        "description": "changed",
        "status": "DISABLED",
        "events": ["model_version.created"],
    }
    assert seen["tested"] == {"success": True, "status": 200}
    assert receiver.received[-1].payload["entity"] == "model_version"
    assert seen["deleted"] is True


def _changes(client: Client, name: str) -> None:
    client.create_registered_model(name)
    for _ in range(2):
        client.create_model_version(name, f"runs:/{uuid.uuid4().hex}/model")
    client.set_registered_model_alias(name, "champion", 1)
    client.set_registered_model_alias(name, "champion", 2)
    client.transition_model_version_stage(name, 2, "Production")


def test_every_event_arrives_once_signed_in_order_even_across_a_crash_mid_retry(
    tmp_path: Path,
) -> None:
    database_url = f"sqlite:///{tmp_path / 'server.db'}"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    args = server_args(database_url, str(tmp_path / "artifacts"), port, workers=2)
    with running_receiver(SECRET) as receiver:
        env = _env(receiver, generate_key())
        receiver.answer = lambda _r: 500
        with process(args, f"{base}/health", tmp_path / "first.log", env=env) as first:
            client = Client(base, async_logging=False)
            hook = client.create_webhook("e2e", receiver.url, sorted(EVENT_NAMES), secret=SECRET)
            for name in ("alpha", "beta"):
                _changes(client, name)
            _until(
                lambda: any(
                    d.attempts >= 1 and d.status == "pending"
                    for d in client.list_webhook_deliveries(hook.webhook_id)
                ),
                "a failed attempt",
            )
            stop(first, signal.SIGKILL)  # a crash in the middle of the retries

        refused = subprocess.run(
            [sys.executable, "-m", "registry.cli", *args[3:]],
            env={**os.environ, **env, "MODELYARD_WEBHOOK_KEY": ""},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert refused.returncode != 0
        assert "MODELYARD_WEBHOOK_KEY" in refused.stderr
        assert "Traceback" not in refused.stderr

        receiver.answer = lambda _r: 200
        with process(args, f"{base}/health", tmp_path / "second.log", env=env):
            client = Client(base, async_logging=False)
            _until(
                lambda: all(
                    d.status == "delivered"
                    for d in client.list_webhook_deliveries(hook.webhook_id, max_results=1000)
                ),
                "every delivery",
                lambda: client.list_webhook_deliveries(hook.webhook_id, max_results=1000),
            )
    database = open_database(database_url)
    try:
        with use_database(database), database.connection_context():
            stream = events_after(0, limit=1000)
    finally:
        close_database(database)
    got = receiver.answered_ok()
    assert len(stream) >= 12
    assert len(got) == len({r.delivery_id for r in got}) == len(stream)
    assert all(r.signed for r in receiver.received)
    for name in ("alpha", "beta"):
        expected = [(e.event_type, e.data) for e in stream if e.model_name == name]
        seen = [
            (f"{r.payload['entity']}.{r.payload['action']}", r.payload["data"])
            for r in got
            if r.payload["data"]["name"] == name
        ]
        assert seen == expected
    logs = (tmp_path / "first.log").read_text() + (tmp_path / "second.log").read_text()
    assert SECRET not in logs
