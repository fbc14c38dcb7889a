"""Idle and slowloris connections never stop ``modelyard server`` or ``modelyard serve``
answering other clients."""

from __future__ import annotations

import socket
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression

from registry import sklearn as sklearn_flavor
from tests.conftest import free_port
from tests.servers import process, registry_server

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]

IDLE = 200
SLOWLORIS = 40  # five times the server's 2 workers x 4 threads
DEADLINE = 60.0
LINGERING = 100


@contextmanager
def _connections(port: int, count: int, first_bytes: bytes) -> Iterator[list[socket.socket]]:
    with ExitStack() as stack:
        socks = []
        for _ in range(count):
            sock = stack.enter_context(socket.create_connection(("127.0.0.1", port), timeout=10))
            if first_bytes:
                sock.sendall(first_bytes)
            socks.append(sock)
        yield socks


def _answers_within_deadline(base: str, drip: list[socket.socket]) -> list[int]:
    """Ask /health ten times while the slow clients keep sending a byte of header each."""
    statuses: list[int] = []
    deadline = time.monotonic() + DEADLINE
    with httpx.Client(timeout=DEADLINE) as client:
        while len(statuses) < 10 and time.monotonic() < deadline:
            for sock in drip:
                sock.sendall(b"a")
            statuses.append(client.get(f"{base}/health").status_code)
    return statuses


def test_idle_and_slowloris_connections_do_not_starve_other_clients(tmp_path: Path) -> None:
    with registry_server(tmp_path) as base:
        port = int(base.rsplit(":", 1)[1])
        head = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "
        with (
            _connections(port, IDLE, b"") as _idle,
            _connections(port, SLOWLORIS, head) as slow,
        ):
            assert _answers_within_deadline(base, slow) == [200] * 10


def test_serving_too_answers_while_slow_clients_hang_on(tmp_path: Path) -> None:
    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [0.0, 1.0, 0.0]})
    sklearn_flavor.save_model(LinearRegression().fit(frame, frame["a"]), tmp_path / "model")
    port = free_port()
    args = [sys.executable, "-m", "registry.cli", "serve", str(tmp_path / "model")]
    args += ["--port", str(port), "--workers", "2"]
    base = f"http://127.0.0.1:{port}"
    with process(args, f"{base}/ping", tmp_path / "serve.log"):
        head = b"GET /ping HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "
        with (
            _connections(port, IDLE, b"") as _idle,
            _connections(port, SLOWLORIS, head) as slow,
        ):
            assert _answers_within_deadline(base, slow) == [200] * 10


def test_a_client_that_never_finishes_its_head_is_disconnected(tmp_path: Path) -> None:
    with registry_server(tmp_path) as base:
        port = int(base.rsplit(":", 1)[1])
        with _connections(port, 1, b"GET /health HTTP/1.1\r\n") as (sock,):
            sock.settimeout(DEADLINE)
            assert sock.recv(1024) == b"", "the server closes it (after its head timeout)"


def test_bodies_read_ahead_with_the_head_still_arrive_whole(tmp_path: Path) -> None:
    body = bytes(range(256)) * 1024  # more than the worker reads ahead with the head
    url = "/api/2.0/mlflow-artifacts/artifacts/0/run/artifacts/blob.bin"
    with registry_server(tmp_path) as base, httpx.Client(base_url=base, timeout=30) as client:
        assert client.put(url, content=body).status_code == 200
        assert client.get(url).content == body


def _request(path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()


def _read_answer(sock: socket.socket, buffered: bytearray) -> bytes:
    """One whole response (its head and Content-Length body) off ``sock``."""
    while b"\r\n\r\n" not in buffered:
        chunk = sock.recv(65536)
        assert chunk, "the server closed the connection"
        buffered += chunk
    head, _, _ = bytes(buffered).partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    end = len(head) + 4 + length
    while len(buffered) < end:
        chunk = sock.recv(65536)
        assert chunk, "the server closed the connection"
        buffered += chunk
    answer = bytes(buffered[:end])
    del buffered[:end]
    return answer


def test_requests_sent_back_to_back_on_one_connection_are_all_answered(tmp_path: Path) -> None:
    with registry_server(tmp_path) as base:
        port = int(base.rsplit(":", 1)[1])
        with _connections(port, 1, b"") as (sock,):
            buffered = bytearray()
            for _ in range(200):  # each sent as soon as the last is answered
                sock.sendall(_request("/health"))
                assert _read_answer(sock, buffered).startswith(b"HTTP/1.1 200")
            sock.sendall(_request("/health") * 3)  # pipelined
            for _ in range(3):
                assert _read_answer(sock, buffered).startswith(b"HTTP/1.1 200")
            head = _request("/health")
            sock.sendall(head[:10])  # a head that arrives in two parts
            time.sleep(0.2)
            sock.sendall(head[10:])
            assert _read_answer(sock, buffered).startswith(b"HTTP/1.1 200")
            assert buffered == b""


def _kept_alive_connection(port: int) -> socket.socket:
    """A connection whose first request was answered and kept alive.

    A worker holding more connections than another closes one after answering on it
    (``Connection: close``, to move its client to the other worker): as any client would, this
    one then connects again.
    """
    while True:
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        sock.sendall(_request("/health"))
        answer = _read_answer(sock, bytearray())
        assert answer.startswith(b"HTTP/1.1 200")
        if b"\r\nconnection: close\r\n" not in answer.lower():
            return sock
        sock.close()


def test_kept_alive_connections_that_stall_mid_head_do_not_starve_other_clients(
    tmp_path: Path,
) -> None:
    with registry_server(tmp_path) as base, ExitStack() as stack:
        port = int(base.rsplit(":", 1)[1])
        slow = []
        for _ in range(SLOWLORIS):  # a first request answered, then the next one's head stalls
            sock = stack.enter_context(_kept_alive_connection(port))
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
            slow.append(sock)
        assert _answers_within_deadline(base, slow) == [200] * 10


def test_clients_that_stay_connected_after_their_last_answer_do_not_stall_others(
    tmp_path: Path,
) -> None:
    """A server closing a connection waits up to 2 s for its client to close too; gunicorn
    waited in the worker's event loop, so at 100 such clients in a row the workers served about
    one request a second, and far fewer than these were answered within the deadline."""
    last = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    with registry_server(tmp_path) as base, ExitStack() as stack:
        port = int(base.rsplit(":", 1)[1])
        answered = 0
        deadline = time.monotonic() + DEADLINE
        while answered < LINGERING and time.monotonic() < deadline:
            sock = stack.enter_context(socket.create_connection(("127.0.0.1", port), timeout=30))
            sock.sendall(last)
            assert _read_answer(sock, bytearray()).startswith(b"HTTP/1.1 200")
            assert sock.recv(1) == b"", "the server closes its end after the answer"
            answered += 1  # and this client keeps its end open until the test ends
        assert answered == LINGERING
