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
