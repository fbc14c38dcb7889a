"""The HTTP transport against real servers: background batches, outages, retries and auth."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from registry.client import Client
from registry.errors import InvalidParameter, NotFound
from tests.conftest import free_port
from tests.servers import registry_server

pytestmark = pytest.mark.e2e


def test_background_metrics_survive_a_server_outage(tmp_path: Path) -> None:
    port = free_port()
    db = f"sqlite:///{tmp_path / 'server.db'}"
    with registry_server(tmp_path, database_url=db, port=port, workers=1) as url:
        client = Client(url)
        run_id = client.create_run(client.create_experiment("outage")).info.run_id
        started = time.perf_counter()
        for step in range(2000):
            client.log_metric(run_id, "loss", 1.0 / (step + 1), step=step)
        assert time.perf_counter() - started < 2.0  # queued, not sent one by one
        client.flush(timeout=60)
        assert len(client.get_metric_history(run_id, "loss")) == 2000
    for step in range(2000, 2100):
        client.log_metric(run_id, "loss", 0.0, step=step)
    time.sleep(0.5)  # the thread meets the closed port and keeps the points
    with registry_server(tmp_path, database_url=db, port=port, workers=1):
        client.set_terminated(run_id)
        history = client.get_metric_history(run_id, "loss")
        assert [m.step for m in history] == list(range(2100))
        assert client.get_run(run_id).info.status == "FINISHED"


def test_refused_batch_surfaces_on_next_call(tmp_path: Path) -> None:
    with registry_server(tmp_path, workers=1) as url:
        client = Client(url)
        client.log_metric("0" * 32, "loss", 1.0)
        with pytest.raises(NotFound):
            client.flush(timeout=30)
        sync = Client(url, async_logging=False)
        with pytest.raises(InvalidParameter):
            sync.log_metric("x", "loss", "nan?")  # type: ignore[arg-type]


class _Flaky(BaseHTTPRequestHandler):
    failures = 2
    seen: list[dict[str, str]] = []

    def do_GET(self) -> None:
        type(self).seen.append(dict(self.headers))
        if type(self).failures > 0:
            type(self).failures -= 1
            self.send_response(503)
            self.end_headers()
            return
        body = json.dumps({"experiment": {"experiment_id": "0", "name": "Default"}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def flaky_server() -> Iterator[str]:
    _Flaky.failures, _Flaky.seen = 2, []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Flaky)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_retries_503_and_sends_token(flaky_server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", "s3cret")
    client = Client(flaky_server)
    client._transport.backoff = 0.01
    assert client.get_experiment("0").name == "Default"
    assert len(_Flaky.seen) == 3
    assert {h["Authorization"] for h in _Flaky.seen} == {"Bearer s3cret"}


def test_basic_auth_from_environment(flaky_server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", "ana")
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", "pw")
    _Flaky.failures = 0
    Client(flaky_server).get_experiment("0")
    assert _Flaky.seen[0]["Authorization"] == "Basic YW5hOnB3"


class _Throttling(BaseHTTPRequestHandler):
    arrivals: list[float] = []

    def do_GET(self) -> None:
        type(self).arrivals.append(time.monotonic())
        if len(type(self).arrivals) == 1:
            self.send_response(429)
            self.send_header("Retry-After", "1")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = json.dumps({"experiment": {"experiment_id": "0", "name": "Default"}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_a_429_is_retried_no_sooner_than_its_retry_after() -> None:
    _Throttling.arrivals = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Throttling)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        client = Client(f"http://127.0.0.1:{server.server_address[1]}", async_logging=False)
        client._transport.backoff = 0.01  # alone, the backoff would retry within 10 ms
        assert client.get_experiment("0").name == "Default"
    finally:
        server.shutdown()
        server.server_close()
    first, second = _Throttling.arrivals
    assert second - first >= 1.0
