"""A connection closed after its last answer: the client reads all of it, and the socket is
closed once the client closes or the linger ends, without anyone waiting on it."""

from __future__ import annotations

import selectors
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from registry.lingering_close import LINGER_SECONDS, LingeringCloses

LIMIT = 10


@pytest.fixture
def poller() -> Iterator[selectors.BaseSelector]:
    with selectors.DefaultSelector() as selector:
        yield selector


def _pair() -> tuple[socket.socket, socket.socket]:
    with socket.create_server(("127.0.0.1", 0)) as listener:
        client = socket.create_connection(listener.getsockname(), timeout=10)
        server, _ = listener.accept()
    return client, server


def _dispatch(poller: selectors.BaseSelector) -> None:
    for key, _ in poller.select(timeout=5):
        key.data(key.fileobj)


def test_the_answer_arrives_whole_though_the_clients_bytes_were_unread(
    poller: selectors.BaseSelector,
) -> None:
    client, server = _pair()
    with client:
        client.sendall(b"x" * 10_000)  # a request body, say, that the server never read
        answer = b"y" * 200_000

        def answer_and_close() -> None:
            server.sendall(answer)
            LingeringCloses(poller, LIMIT).close(server)

        sender = threading.Thread(target=answer_and_close)
        sender.start()
        received = bytearray()
        while chunk := client.recv(65536):  # closing with those bytes unread would reset it
            received += chunk
        sender.join()
        assert bytes(received) == answer
    _dispatch(poller)
    assert server.fileno() == -1


def test_the_socket_is_closed_when_the_client_closes(poller: selectors.BaseSelector) -> None:
    client, server = _pair()
    closes = LingeringCloses(poller, LIMIT)
    closes.close(server)
    assert client.recv(1) == b"", "the client sees our end closed"
    assert server.fileno() != -1, "and we wait for the client's"
    client.close()
    _dispatch(poller)
    assert server.fileno() == -1
    assert not poller.get_map()


def test_a_client_that_never_closes_is_closed_when_the_linger_ends(
    poller: selectors.BaseSelector,
) -> None:
    client, server = _pair()
    with client:
        closes = LingeringCloses(poller, LIMIT)
        closes.close(server)
        closes.expire(time.monotonic())
        assert server.fileno() != -1
        closes.expire(time.monotonic() + LINGER_SECONDS)
        assert server.fileno() == -1
        assert not poller.get_map() and not closes.closing


def test_a_client_gone_already_is_closed_at_once(poller: selectors.BaseSelector) -> None:
    client, server = _pair()
    client.close()
    LingeringCloses(poller, LIMIT).close(server)
    assert server.fileno() == -1
    assert not poller.get_map()


def test_past_the_limit_a_connection_is_closed_at_once(poller: selectors.BaseSelector) -> None:
    pairs = [_pair() for _ in range(LIMIT + 1)]
    closes = LingeringCloses(poller, LIMIT)
    for _, server in pairs:
        closes.close(server)
    assert [server.fileno() == -1 for _, server in pairs] == [False] * LIMIT + [True]
    for client, _ in pairs:
        client.close()


def test_at_exit_the_waiting_are_drained_until_their_client_closes(
    poller: selectors.BaseSelector,
) -> None:
    client, server = _pair()
    closes = LingeringCloses(poller, LIMIT)
    closes.close(server)
    client.sendall(b"x" * 1000)  # sent after the answer: unread, it would reset the connection
    client.close()
    closes.finish_all()
    assert server.fileno() == -1
    assert not poller.get_map() and not closes.closing


def test_at_exit_an_answer_still_in_flight_arrives_whole(
    poller: selectors.BaseSelector,
) -> None:
    """The client reads slowly (a small receive buffer), so most of the answer is still in
    our send buffer when the worker leaves; and it sent more after the answer. Closed with
    those bytes unread, the connection would be reset and the rest of the answer lost."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        client = socket.socket()
        client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        client.connect(listener.getsockname())
        server, _ = listener.accept()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 * 1024 * 1024)
    answer = b"y" * 1_000_000
    received = bytearray()

    def read_all() -> None:
        with client:
            client.settimeout(30)
            while chunk := client.recv(65536):
                received.extend(chunk)

    server.sendall(answer)
    closes = LingeringCloses(poller, LIMIT)
    closes.close(server)
    client.sendall(b"x" * 1000)
    reader = threading.Thread(target=read_all)
    reader.start()
    closes.finish_all()
    reader.join()
    assert bytes(received) == answer
    assert server.fileno() == -1
