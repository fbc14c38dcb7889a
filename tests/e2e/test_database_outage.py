"""A PostgreSQL outage under a real server: fast 503s with Retry-After, then prompt recovery.

The server reaches PostgreSQL through a TCP proxy started here, which the test cuts and
restores (the shared PostgreSQL itself keeps running). Two kinds of outage: the database
refuses connections (a restart or crash), or accepts them and never answers (a host that is
gone or still starting).
"""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest

from tests import databases
from tests.servers import registry_server

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]

API = "/api/2.0/mlflow"
CLIENTS = 4
RECOVERY_DEADLINE = 10.0
"""Generous: requests are meant to succeed within 2 s of the database answering again."""
FAIL_FAST_DEADLINE = 20.0
"""Generous, for 64 failures that each take milliseconds."""


class TcpProxy:
    """Forwards 127.0.0.1:<port> to a target address until cut; then refuses or stays silent."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.silent = False
        self.port = 0
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._listener = self._listen()

    def _listen(self) -> socket.socket:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        self.port = listener.getsockname()[1]
        listener.listen(64)
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()
        return listener

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # closed by cut()
            with self._lock:
                self._sockets.append(client)
                if self.silent:
                    continue  # accepted, never answered: the client waits on its own timeout
                try:
                    upstream = socket.create_connection(self.target, timeout=5)
                except OSError:
                    client.close()
                    continue
                self._sockets.append(upstream)
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        with suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        for sock in (source, sink):
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def cut(self, silent: bool) -> None:
        """Drop every open connection; then refuse new ones, or (``silent``) accept and hang."""
        self.silent = silent
        if not silent:
            self._listener.close()
        self._close_all()

    def restore(self) -> None:
        """Forward again, on the same port."""
        self.silent = False
        if self._listener.fileno() == -1:
            self._listener = self._listen()

    def close(self) -> None:
        """Stop listening and drop every connection."""
        self._listener.close()
        self._close_all()

    def _close_all(self) -> None:
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()


class Clients:
    """Keep-alive clients that read and write in a loop and record every outcome."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.prefix = uuid.uuid4().hex[:8]  # the database outlives one test
        self.outcomes: list[tuple[float, int | str, httpx.Response | None]] = []
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._run, args=(i,)) for i in range(CLIENTS)]

    def __enter__(self) -> Clients:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=30)

    def _run(self, index: int) -> None:
        # One connection per client for the whole test: the outage must not break it.
        with httpx.Client(base_url=self.base, timeout=10) as http:
            for n in range(1_000_000):
                if self.stop.is_set():
                    return
                started = time.monotonic()
                try:
                    if n % 2:
                        response = http.post(
                            f"{API}/experiments/create", json={"name": f"{self.prefix}-{index}-{n}"}
                        )
                    else:
                        response = http.get(f"{API}/experiments/search?max_results=5")
                except httpx.HTTPError as err:
                    self.outcomes.append((started, type(err).__name__, None))
                else:
                    self.outcomes.append((started, response.status_code, response))
                time.sleep(0.02)

    def wait_until_recovered(self, count: int, deadline: float) -> float:
        """When requests began to succeed for good: ``count`` successes, all started after the
        last failure; returns the start of the first of them."""
        end = time.monotonic() + deadline
        while True:
            ordered = sorted(list(self.outcomes), key=lambda outcome: outcome[0])
            failures = [t for t, s, _ in ordered if s != 200]
            last_failure = failures[-1] if failures else 0.0
            since = [t for t, s, _ in ordered if t > last_failure]
            if len(since) >= count:
                return since[0]
            assert time.monotonic() < end, f"still failing {deadline}s after the restore"
            time.sleep(0.02)

    def wait_for(self, status: int, since: float, count: int, deadline: float) -> float:
        """When ``count`` requests sent after ``since`` got ``status`` (fails past deadline)."""
        end = time.monotonic() + deadline
        while True:
            times = sorted(t for t, s, _ in list(self.outcomes) if t >= since and s == status)
            if len(times) >= count:
                return times[count - 1]
            assert time.monotonic() < end, f"no {count} x {status} after {deadline}s"
            time.sleep(0.02)


@pytest.fixture(scope="module")
def postgres_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated throwaway PostgreSQL database."""
    with databases.migrated_database("postgres", tmp_path_factory.mktemp("outage")) as url:
        yield url


def _through(proxy: TcpProxy, url: str) -> str:
    parts = urlsplit(url)
    credentials = parts.netloc.rpartition("@")[0]
    netloc = f"{credentials}@127.0.0.1:{proxy.port}" if credentials else f"127.0.0.1:{proxy.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


@pytest.mark.parametrize("silent", [False, True], ids=["refused", "silent"])
def test_outage_fails_fast_with_retry_after_and_recovers_promptly(
    postgres_url: str, tmp_path: Path, silent: bool
) -> None:
    parts = urlsplit(postgres_url)
    proxy = TcpProxy((parts.hostname or "127.0.0.1", parts.port or 5432))
    try:
        with (
            registry_server(tmp_path, _through(proxy, postgres_url)) as base,
            Clients(base) as clients,
        ):
            clients.wait_for(200, 0, 20, deadline=30)
            cut_at = time.monotonic()
            proxy.cut(silent)
            # Fast failures: were each one to wait out a connect timeout (2 s), these would take
            # over a minute; they take about a second.
            clients.wait_for(503, cut_at, 16 * CLIENTS, deadline=FAIL_FAST_DEADLINE)
            proxy.restore()
            clients.wait_until_recovered(6 * CLIENTS, deadline=RECOVERY_DEADLINE)
    finally:
        proxy.close()

    # Every request got an HTTP answer on its keep-alive connection: none dropped or hung.
    assert {status for _, status, _ in clients.outcomes} == {200, 503}
    for _, _, response in clients.outcomes:
        assert response is not None
        if response.status_code == 503:
            assert response.headers["Retry-After"] == "1"
            assert set(response.json()) <= {"error_code", "message", "details"}
            assert response.json()["error_code"] == "TEMPORARILY_UNAVAILABLE"
