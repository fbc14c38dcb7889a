"""A real webhook receiver on 127.0.0.1 for the webhook tests: it records what it gets.

It verifies each request's ``X-MLflow-Signature`` the way MLflow documents it for receivers
(HMAC-SHA256 over ``{delivery_id}.{timestamp}.{body}``, base64, ``v1,`` prefix), written here
independently of the server's code. ``answer`` decides each reply's status code.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Received:
    """One request: its headers, body text, whether its signature verified, our answer."""

    headers: dict[str, str]
    body: str
    signed: bool
    status: int = 0

    @property
    def payload(self) -> dict[str, Any]:
        """The JSON body."""
        data: dict[str, Any] = json.loads(self.body)
        return data

    @property
    def delivery_id(self) -> str:
        """The ``X-MLflow-Delivery-Id`` header."""
        return self.headers.get("X-MLflow-Delivery-Id", "")


def signature_ok(secret: str, headers: dict[str, str], body: str) -> bool:
    """Verify a request as a receiver written from MLflow's documentation would."""
    signature = headers.get("X-MLflow-Signature", "")
    if not signature.startswith("v1,"):
        return False
    content = f"{headers['X-MLflow-Delivery-Id']}.{headers['X-MLflow-Timestamp']}.{body}"
    expected = hmac.new(secret.encode(), content.encode(), hashlib.sha256).digest()
    return hmac.compare_digest(base64.b64encode(expected).decode(), signature.split(",", 1)[1])


class Receiver:
    """Records requests; ``answer(received)`` gives each one's status (default 200)."""

    def __init__(self, secret: str = "") -> None:
        self.secret = secret
        self.received: list[Received] = []
        self.answer: Callable[[Received], int] = lambda _r: 200
        self.headers_out: dict[str, str] = {}
        self.body_out = b"ok"
        self._lock = threading.Lock()
        self.port = 0

    def record(self, headers: dict[str, str], body: str) -> int:
        received = Received(headers, body, signature_ok(self.secret, headers, body))
        status = self.answer(received)
        with self._lock:
            self.received.append(Received(received.headers, body, received.signed, status))
        return status

    def answered_ok(self) -> list[Received]:
        """Requests answered 2xx, in the order they arrived."""
        with self._lock:
            return [r for r in self.received if 200 <= r.status < 300]

    @property
    def url(self) -> str:
        """The receiver's URL."""
        return f"http://127.0.0.1:{self.port}/hook"


@contextmanager
def running_receiver(secret: str = "") -> Iterator[Receiver]:
    """A ``Receiver`` listening on a free 127.0.0.1 port for the block."""
    receiver = Receiver(secret)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length).decode()
            status = receiver.record(dict(self.headers.items()), body)
            self.send_response(status)
            for key, value in receiver.headers_out.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(receiver.body_out)))
            self.end_headers()
            self.wfile.write(receiver.body_out)

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.port = int(server.server_address[1])
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


ANSWER = b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 40 + b"\r\nContent-Length: 2\r\n\r\nok"


@dataclass
class Trickler:
    """A receiver that answers 200 a byte at a time: what each connection came to."""

    port: int
    requests: int = 0
    answered: int = 0
    """Answers sent in full."""
    cut_off: int = 0
    """Answers the sender hung up on before they were complete."""
    got_request: threading.Event = field(default_factory=threading.Event)

    @property
    def url(self) -> str:
        """The receiver's URL."""
        return f"http://127.0.0.1:{self.port}/hook"


@contextmanager
def trickling_receiver(interval: float = 0.2) -> Iterator[Trickler]:
    """A ``Trickler`` on a free 127.0.0.1 port, sending one byte of its answer every ``interval``.

    Its answer (``ANSWER``) takes ``len(ANSWER) * interval`` seconds; the block's exit waits
    until every connection has ended, so its counts are final then.
    """
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.05)
    trickler = Trickler(port=int(listener.getsockname()[1]))
    lock = threading.Lock()
    stop = threading.Event()
    handlers: list[threading.Thread] = []

    def handle(conn: socket.socket) -> None:
        with conn:
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                data += chunk
            with lock:
                trickler.requests += 1
            trickler.got_request.set()
            for byte in ANSWER:
                try:
                    conn.sendall(bytes([byte]))
                except OSError:
                    with lock:
                        trickler.cut_off += 1
                    return
                time.sleep(interval)
            with lock:
                trickler.answered += 1

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            conn.settimeout(None)
            handler = threading.Thread(target=handle, args=(conn,), daemon=True)
            handlers.append(handler)
            handler.start()

    acceptor = threading.Thread(target=accept, daemon=True)
    acceptor.start()
    try:
        yield trickler
    finally:
        stop.set()
        acceptor.join()
        listener.close()
        for handler in handlers:
            handler.join()
