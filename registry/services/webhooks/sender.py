"""Post one delivery to the address the SSRF guard checked; never follow a redirect.

The request goes to the checked IP address with the URL's host name in ``Host`` and, for https,
as the TLS server name (so the certificate is verified against the name, not the address). No
proxy from the environment is used (the checked peer would be the proxy), and only the part of
the answer that is kept (``RESPONSE_EXCERPT_CHARS`` bytes) is read.

One send, DNS lookup included, ends by its deadline (``timeout`` seconds after it starts):
httpx's timeouts bound each read and write, not the whole, so a receiver trickling its answer
would outlast any of them. At the deadline a timer shuts the request's socket down, which ends
a read or write blocked on it at once; the dispatcher's lease relies on this bound.
"""

from __future__ import annotations

import codecs
import contextlib
import socket
import threading
import time
from typing import Any

import httpx

from registry.services.webhooks.ssrf import AllowList, Target, WebhookUrlRefused, check_url
from registry.store.webhook_deliveries import RESPONSE_EXCERPT_CHARS, Attempt

_SOCKET_OPENED = ("connection.connect_tcp.complete", "connection.start_tls.complete")


class _Deadline:
    """Shuts down the socket of one send when its time is up."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._at = time.monotonic() + seconds
        self._lock = threading.Lock()
        self._socket: socket.socket | None = None
        self.passed = False
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True
        self._timer.start()

    def remaining(self) -> float:
        """Seconds left (0 when passed)."""
        return max(0.0, self._at - time.monotonic())

    def trace(self, event_name: str, info: dict[str, Any]) -> None:
        """The ``trace`` hook of httpcore: keep the socket the request opens (TCP, then TLS)."""
        if event_name in _SOCKET_OPENED:
            with self._lock:
                self._socket = info["return_value"].get_extra_info("socket")
                if self.passed:
                    self._shut_down()

    def cancel(self) -> None:
        """The send is over: stop the timer, and forget the socket (closed by now)."""
        self._timer.cancel()
        with self._lock:
            self._socket = None

    def _expire(self) -> None:
        with self._lock:
            self.passed = True
            self._shut_down()

    def _shut_down(self) -> None:
        if self._socket is not None:
            # The plain socket's method: an SSLSocket's own would tear down its TLS state
            # under the thread reading from it. OSError: closed already.
            with contextlib.suppress(OSError):
                socket.socket.shutdown(self._socket, socket.SHUT_RDWR)


class _DeadlinePassed(Exception):
    """The deadline passed before the URL's host resolved."""


def post(url: str, body: str, headers: dict[str, str], allow: AllowList, timeout: float) -> Attempt:
    """Send ``body`` to ``url`` within ``timeout`` seconds in all; what came back, or why not."""
    deadline = _Deadline(timeout)
    try:
        return _post(url, body, headers, allow, deadline)
    finally:
        deadline.cancel()


def _post(
    url: str, body: str, headers: dict[str, str], allow: AllowList, deadline: _Deadline
) -> Attempt:
    late = f"no complete answer within the {deadline.seconds:g} s deadline"
    try:
        target = _checked(url, allow, deadline)
    except WebhookUrlRefused as err:
        return Attempt(None, "", f"refused: {err.message}")
    except _DeadlinePassed:
        return Attempt(None, "", f"{late} (the host name did not resolve in time)")
    extensions: dict[str, Any] = {"trace": deadline.trace}
    if target.scheme == "https":
        extensions["sni_hostname"] = target.host
    try:
        with (
            httpx.Client(
                # Each read or write also times out by itself (never after the deadline).
                trust_env=False,
                follow_redirects=False,
                timeout=max(deadline.remaining(), 0.01),
            ) as client,
            client.stream(
                "POST",
                target.url(),
                content=body.encode(),
                headers={**headers, "Host": target.host_header(), "Accept-Encoding": "identity"},
                extensions=extensions,
            ) as response,
        ):
            excerpt = _read_excerpt(response, deadline)
    except httpx.HTTPError as err:
        return Attempt(None, "", late if deadline.passed else f"{type(err).__name__}: {err}")
    error = ""
    if response.is_redirect:
        location = response.headers.get("Location", "")
        error = f"redirect to {location!r} not followed"
    elif not response.is_success:
        error = f"HTTP {response.status_code}"
    return Attempt(response.status_code, excerpt, error)


def _checked(url: str, allow: AllowList, deadline: _Deadline) -> Target:
    # getaddrinfo has no timeout: it runs in a thread the send stops waiting for at the deadline
    # (the thread ends on its own when the resolver gives up).
    found: list[Target | Exception] = []

    def check() -> None:
        try:
            target = check_url(url, allow)
            assert target is not None  # resolved: None only when told not to resolve
            found.append(target)
        except Exception as err:  # handed to the sending thread
            found.append(err)

    thread = threading.Thread(target=check, name="webhook-resolve", daemon=True)
    thread.start()
    thread.join(deadline.remaining())
    if not found:
        raise _DeadlinePassed
    if isinstance(found[0], Exception):
        raise found[0]
    return found[0]


def _read_excerpt(response: httpx.Response, deadline: _Deadline) -> str:
    data = b""
    try:
        for chunk in response.iter_raw():
            data += chunk
            if len(data) >= RESPONSE_EXCERPT_CHARS:
                break
    except httpx.HTTPError:
        if not deadline.passed:
            raise
        # The status came in time: an answer body cut off at the deadline is still an answer.
    # A byte is at most one character, so the excerpt kept is all read; a character cut in
    # half at the end is dropped rather than shown as a replacement character.
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    return decoder.decode(data[:RESPONSE_EXCERPT_CHARS], final=False)
