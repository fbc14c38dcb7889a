"""When a gunicorn worker leaves new connections to a less loaded worker, and when it never does;
when a thread that answered a request waits for the connection's next one."""

from __future__ import annotations

import logging
import selectors
import socket
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from gunicorn.config import Config
from gunicorn.workers.gthread import TConn

from registry.gunicorn_workers import HeadBufferingWorker, LingeringConnection
from registry.lingering_close import LingeringCloses


@pytest.fixture
def worker() -> Iterator[HeadBufferingWorker]:
    """A worker object as gunicorn's master builds it, with its event loop's state set up."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.setblocking(False)
    cfg = Config()
    cfg.set("workers", 2)
    built = HeadBufferingWorker(1, 0, [listener], None, 30, cfg, logging.getLogger("test"))
    built.poller = selectors.DefaultSelector()
    built.accept_resumes_at = 0.0
    built.accept_anyway = False
    built.last_heartbeat = 0.0
    built.lingering = LingeringCloses(built.poller, built.worker_connections)
    yield built
    built.poller.close()
    built.tmp.close()
    listener.close()


def test_a_worker_that_stops_while_leaving_connections_to_others_never_accepts_again(
    worker: HeadBufferingWorker,
) -> None:
    # A hold-off was pending (this worker held more connections than the other) when SIGTERM
    # came: gunicorn stops accepting, then keeps turning the loop while it drains.
    worker.accept_resumes_at = time.monotonic() - 1
    worker.alive = False
    worker.set_accept_enabled(False)
    worker.wait_for_and_dispatch_events(0)
    assert not worker._accepting
    assert worker.share_slot is None  # no longer counted by the others


def test_a_pending_hold_off_resumes_accepting_once_due(worker: HeadBufferingWorker) -> None:
    worker.accept_resumes_at = time.monotonic() - 1
    worker.set_accept_enabled(True)  # gunicorn's loop asks: refused while the hold-off runs
    assert not worker._accepting
    worker.wait_for_and_dispatch_events(0)
    assert worker._accepting
    assert worker.accept_resumes_at == 0.0


HEAD = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


@pytest.fixture
def kept_alive(worker: HeadBufferingWorker) -> Iterator[tuple[TConn, socket.socket]]:
    """A connection the worker just answered a request on, and its client's end."""
    worker.tpool = ThreadPoolExecutor(1)
    served, client = socket.socketpair()
    conn = TConn(worker.cfg, served, ("127.0.0.1", 1), ("127.0.0.1", 2))
    conn.init()
    yield conn, client
    worker.tpool.shutdown()
    served.close()
    client.close()


def test_a_client_that_paused_once_has_its_next_requests_taken_at_once_again(
    worker: HeadBufferingWorker, kept_alive: tuple[TConn, socket.socket]
) -> None:
    # A logging loop that paused once (its own GC, a busy machine) kept the thread waiting in
    # vain for its next request; its later requests, sent at once, are again answered by the
    # thread that answered the last one, without the round trip through the event loop.
    conn, client = kept_alive
    assert not worker._next_head_is_in(conn)  # nothing sent yet: waited in vain
    client.sendall(HEAD)
    # The next request goes through the loop; the one after is taken here again.
    assert [worker._next_head_is_in(conn) for _ in range(3)] == [False, True, True]


def test_a_client_that_keeps_pausing_is_waited_for_less_and_less_often(
    worker: HeadBufferingWorker, kept_alive: tuple[TConn, socket.socket]
) -> None:
    # Each wait in vain ties up the thread: after the first miss the next request goes
    # through the loop, after the second the next 2, after the third the next 4.
    conn, client = kept_alive
    assert [worker._next_head_is_in(conn) for _ in range(6)] == [False] * 6  # 3 misses
    client.sendall(HEAD)
    assert [worker._next_head_is_in(conn) for _ in range(5)] == [False] * 4 + [True]


def test_a_graceful_close_in_the_event_loop_waits_there_for_the_client(
    worker: HeadBufferingWorker,
) -> None:
    with socket.create_server(("127.0.0.1", 0)) as listener:
        client = socket.create_connection(listener.getsockname(), timeout=10)
        server, address = listener.accept()
        conn = LingeringConnection(worker.cfg, server, address, listener.getsockname())
    conn.lingering = worker.lingering
    with client:
        conn.close(graceful=True)  # as gunicorn's finish_request does, in the event loop
        assert client.recv(1) == b"", "the client sees our end closed"
        assert server.fileno() != -1, "and the worker waits for the client's without blocking"
        assert worker.lingering.waiting == 1
    worker.lingering.finish_all()
    assert server.fileno() == -1
