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
import contextlib
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
    bytes came. At most ``limit`` wait at once (each holds a file descriptor); past that a
    connection is closed outright. Used from the event loop's thread only: request threads
    never touch the selector.
    """

    def __init__(self, poller: selectors.BaseSelector, limit: int) -> None:
        self.poller = poller
        self.limit = limit
        self.closing: collections.deque[_Closing] = collections.deque()
        self.waiting = 0

    def close(self, sock: socket.socket) -> None:
        """Send the client our end of the stream, then close once it sends its own."""
        try:
            sock.shutdown(socket.SHUT_WR)
            sock.setblocking(False)
            entry = _Closing(sock, time.monotonic() + LINGER_SECONDS)
            if self._drain(entry) or self.waiting >= self.limit:
                sock.close()  # the client closed at once, as most do; or too many wait
                return
            self.poller.register(sock, selectors.EVENT_READ, partial(self._readable, entry))
        except Exception:  # the client is gone already, or the selector is full
            sock.close()
            return
        self.closing.append(entry)
        self.waiting += 1

    def next_deadline(self) -> float | None:
        """When the oldest waiting connection is due to be closed, if any waits."""
        return self.closing[0].deadline if self.closing else None

    def expire(self, now: float) -> None:
        """Close the connections whose client did not close within ``LINGER_SECONDS``."""
        while self.closing and (self.closing[0].closed or self.closing[0].deadline <= now):
            self._finish(self.closing.popleft())

    def finish_all(self) -> None:
        """At exit, without the event loop: drain each waiting connection, then close it.

        Each is read, blocking, until its client closes or its deadline: the process's exit
        would close it unread, resetting it.
        """
        while self.closing:
            entry = self.closing.popleft()
            if entry.closed:
                continue
            with contextlib.suppress(KeyError, ValueError, OSError):
                self.poller.unregister(entry.sock)  # a closed poller holds nothing
            entry.closed = True
            self.waiting -= 1
            if not self._drain(entry, blocking_until=entry.deadline):
                # Its time was up while an earlier one was drained: what has arrived, at least.
                entry.sock.setblocking(False)
                self._drain(entry)
            entry.sock.close()

    def _readable(self, entry: _Closing, _sock: socket.socket) -> None:
        if self._drain(entry):
            self._finish(entry)

    def _drain(self, entry: _Closing, blocking_until: float | None = None) -> bool:
        """Read what the client sent; whether the connection is done with.

        Done: its client closed, sent ``MAX_DRAIN`` or is gone; not merely quiet for now.
        Without ``blocking_until`` only what has arrived; with it, also what arrives until
        then (the socket blocks).
        """
        while entry.drained < MAX_DRAIN:
            if blocking_until is not None:
                remaining = blocking_until - time.monotonic()
                if remaining <= 0:
                    return False
                entry.sock.settimeout(remaining)
            try:
                chunk = entry.sock.recv(MAX_DRAIN - entry.drained)
            except (BlockingIOError, TimeoutError):  # nothing more has come, for now
                return False
            except OSError:  # a reset
                return True
            if not chunk:
                return True
            entry.drained += len(chunk)
        return True

    def _finish(self, entry: _Closing) -> None:
        if entry.closed:
            return
        entry.closed = True
        self.waiting -= 1
        self.poller.unregister(entry.sock)
        entry.sock.close()
