"""An artifact upload streams the file: the client never holds the whole file in memory."""

from __future__ import annotations

import hashlib
import threading
import tracemalloc
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from registry.client.transport import Transport

SIZE = 32 * 1024 * 1024


class _Sink(BaseHTTPRequestHandler):
    """Reads each PUT body in small pieces and keeps only its length and sha256."""

    received: dict[str, tuple[int, str]] = {}

    def do_PUT(self) -> None:
        left = int(self.headers["Content-Length"])
        digest, size = hashlib.sha256(), 0
        while left:
            piece = self.rfile.read(min(left, 1 << 16))
            digest.update(piece)
            size += len(piece)
            left -= len(piece)
        type(self).received[self.path] = (size, digest.hexdigest())
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def sink() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Sink)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_large_file_is_uploaded_whole_without_being_read_into_memory(
    sink: str, tmp_path: Path
) -> None:
    src = tmp_path / "big.bin"
    with src.open("wb") as out:
        for i in range(SIZE // (1 << 20)):
            out.write(bytes([i % 256]) * (1 << 20))
    transport = Transport(sink, max_retries=0)

    tracemalloc.start()
    try:
        transport.upload("1/run/artifacts/big.bin", src)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        transport.close()

    expected = hashlib.sha256(src.read_bytes()).hexdigest()
    assert _Sink.received["/api/2.0/mlflow-artifacts/artifacts/1/run/artifacts/big.bin"] == (
        SIZE,
        expected,
    )
    assert peak < SIZE // 4
