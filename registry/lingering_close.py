"""Closing a connection after its last answer without holding up a worker's event loop.

A server that closes a connection must not reset it while the client's bytes are still unread:
the reset can destroy the end of the answer in flight (RFC 9112 section 9.6). gunicorn's
``close_graceful`` therefore half-closes the socket and reads until the client closes too, for
up to 2 s, blocking; its gthread worker does that in the event loop, so each client that keeps
the connection open after ``Connection: close`` stopped the worker for 2 s: no other connection
was accepted, read or answered meanwhile. Here the event loop waits for those clients instead.
"""

from __future__ import annotations

import collections
import selectors
import socket
import time
from dataclasses import dataclass
from functools import partial

LINGER_SECONDS = 2.0
"""How long a half-closed connection waits for its client to close (gunicorn's figure)."""
MAX_DRAIN = 64 * 1024
"""Past this many bytes read from a closing client, the connection is closed outright."""


@dataclass
class _Closing:
    sock: socket.socket
    deadline: float
    drained: int = 0
    closed: bool = False


class LingeringCloses:
    """Connections half-closed after their last answer, waiting in the event loop.

    Each is drained until its client closes too, ``LINGER_SECONDS`` pass or ``MAX_DRAIN``
    bytes came. Used from the event loop's thread only: request threads never touch the
    selector.
    """

    def __init__(self, poller: selectors.BaseSelector) -> None:
        self.poller = poller
        self.closing: collections.deque[_Closing] = collections.deque()

    def close(self, sock: socket.socket) -> None:
        """Send the client our end of the stream, then close once it sends its own."""
        try:
            sock.shutdown(socket.SHUT_WR)
            sock.setblocking(False)
        except OSError:  # the client is gone already
            sock.close()
            return
        entry = _Closing(sock, time.monotonic() + LINGER_SECONDS)
        if self._drain(entry):  # most clients closed at once: nothing to wait for
            sock.close()
            return
        self.poller.register(sock, selectors.EVENT_READ, partial(self._readable, entry))
        self.closing.append(entry)

    def expire(self, now: float) -> None:
        """Close the connections whose client did not close within ``LINGER_SECONDS``."""
        while self.closing and (self.closing[0].closed or self.closing[0].deadline <= now):
            self._finish(self.closing.popleft())

    def _readable(self, entry: _Closing, _sock: socket.socket) -> None:
        if self._drain(entry):
            self._finish(entry)

    def _drain(self, entry: _Closing) -> bool:
        """Read what the client sent; whether the connection is done with."""
        while entry.drained < MAX_DRAIN:
            try:
                chunk = entry.sock.recv(MAX_DRAIN - entry.drained)
            except BlockingIOError:
                return False
            except OSError:
                return True
            if not chunk:
                return True
            entry.drained += len(chunk)
        return True

    def _finish(self, entry: _Closing) -> None:
        if entry.closed:
            return
        entry.closed = True
        self.poller.unregister(entry.sock)
        entry.sock.close()
