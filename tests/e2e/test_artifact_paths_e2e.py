"""Hostile URLs and broken uploads against a real ``modelyard server`` (gunicorn), byte for byte.

http.client sends the request line exactly as written: no client-side normalisation of ``..``
or percent-encoding hides what the server really receives.
"""

import http.client
import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import boto3
import httpx
import pytest

from tests.registry.artifacts.moto_s3 import FAKE_CREDENTIALS, moto_s3, new_bucket
from tests.servers import registry_server

pytestmark = pytest.mark.e2e

BASE = "/api/2.0/mlflow-artifacts/artifacts"
LIMIT = 32 * 1024 * 1024
TEMP_PREFIX = ".modelyard-upload-"


@pytest.fixture(scope="module")
def local_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    tmp = tmp_path_factory.mktemp("local-server")
    root = tmp / "data" / "artifacts"
    env = {"REGISTRY_MAX_UPLOAD_BYTES": str(LIMIT)}
    with registry_server(tmp, artifact_root=str(root), extra_env=env) as base:
        yield base, root


def raw_request(base: str, method: str, target: str, body: bytes = b"") -> tuple[int, bytes]:
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    try:
        conn.putrequest(method, target, skip_accept_encoding=True)
        conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


HOSTILE_TARGETS = [
    "../../outside.txt",
    "a/../../../outside.txt",
    "%2e%2e/%2e%2e/outside.txt",
    "%2E%2E%2F%2E%2E%2Foutside.txt",
    "%252e%252e/%252e%252e/outside.txt",
    "a%2f..%2f..%2foutside.txt",
    "..%5c..%5coutside.txt",
    "/tmp/outside.txt",
    "%2ftmp%2foutside.txt",
    "outside.txt%00.bin",
    "C:/outside.txt",
    "~/outside.txt",
    "%EF%BC%8E%EF%BC%8E/outside.txt",
]


@pytest.mark.parametrize("target", HOSTILE_TARGETS)
def test_raw_hostile_urls_are_400_json_and_write_nothing(
    local_server: tuple[str, Path], target: str
) -> None:
    base, root = local_server
    for method in ("PUT", "GET", "DELETE"):
        status, body = raw_request(base, method, f"{BASE}/{target}", b"evil")
        assert status == 400, (method, target, body)
        assert json.loads(body)["error_code"] == "INVALID_PARAMETER_VALUE"
    written = [p for p in root.parent.parent.rglob("*outside*")]
    assert written == []


def test_raw_hostile_listing_queries_are_400(local_server: tuple[str, Path]) -> None:
    base, _ = local_server
    for query in ("..", "..%2F..", "%2Fetc", "%252e%252e"):
        status, body = raw_request(base, "GET", f"{BASE}?path={query}")
        assert status == 400, (query, body)


def test_an_upload_cut_off_mid_body_is_never_visible_and_leaves_no_temp_file(
    local_server: tuple[str, Path],
) -> None:
    base, root = local_server
    parts = urlsplit(base)
    target = root / "cut" / "model.bin"
    with socket.create_connection((parts.hostname or "", parts.port or 80)) as sock:
        sock.sendall(
            f"PUT {BASE}/cut/model.bin HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Content-Length: {16 * 1024 * 1024}\r\n\r\n".encode()
        )
        sock.sendall(b"p" * (4 * 1024 * 1024))
        # The body streams to a temp file beside the target while the client is still sending.
        wait_for(lambda: any(p.name.startswith(TEMP_PREFIX) for p in temp_dir(root)))
        assert httpx.get(f"{base}{BASE}", params={"path": "cut"}).json() == {}
        assert not target.exists()
    wait_for(lambda: not any(p.name.startswith(TEMP_PREFIX) for p in temp_dir(root)))
    assert not target.exists()
    assert httpx.get(f"{base}{BASE}/cut/model.bin").status_code == 404


def test_a_chunked_body_over_the_limit_is_413_and_stores_nothing(
    local_server: tuple[str, Path],
) -> None:
    base, root = local_server

    def chunks() -> Iterator[bytes]:
        for _ in range(LIMIT // (1024 * 1024) + 2):
            yield b"z" * 1024 * 1024

    response = httpx.put(f"{base}{BASE}/huge/over.bin", content=chunks(), timeout=30)
    assert response.status_code == 413
    assert response.json()["error_code"] == "PAYLOAD_TOO_LARGE"
    assert not (root / "huge" / "over.bin").exists()
    assert [p.name for p in temp_dir(root, "huge")] == []


def test_an_s3_root_round_trips_and_a_cut_upload_leaves_nothing(tmp_path: Path) -> None:
    with moto_s3() as endpoint:
        bucket = new_bucket(endpoint)
        env = {**FAKE_CREDENTIALS, "REGISTRY_S3_ENDPOINT_URL": endpoint}
        with registry_server(
            tmp_path, artifact_root=f"s3://{bucket}/mlartifacts", extra_env=env
        ) as base:
            payload = bytes(range(256)) * 40_000
            assert (
                httpx.put(f"{base}{BASE}/1/r/artifacts/m.bin", content=payload).status_code == 200
            )
            assert httpx.get(f"{base}{BASE}/1/r/artifacts/m.bin").content == payload
            listing = httpx.get(f"{base}{BASE}", params={"path": "1/r/artifacts"}).json()
            assert listing == {
                "files": [{"path": "m.bin", "is_dir": False, "file_size": len(payload)}]
            }
            status, _ = raw_request(base, "PUT", f"{BASE}/%2e%2e/escape.bin", b"x")
            assert status == 400
            client = boto3.client("s3", endpoint_url=endpoint)
            parts = urlsplit(base)
            with socket.create_connection((parts.hostname or "", parts.port or 80)) as sock:
                sock.sendall(
                    f"PUT {BASE}/1/r/artifacts/cut.bin HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    f"Content-Length: {20 * 1024 * 1024}\r\n\r\n".encode()
                )
                sock.sendall(b"p" * (12 * 1024 * 1024))
                # Past one part, the server has started a multipart upload...
                wait_for(lambda: client.list_multipart_uploads(Bucket=bucket).get("Uploads"))
            # ...which the cut-off aborts rather than completing.
            wait_for(lambda: client.list_multipart_uploads(Bucket=bucket).get("Uploads") is None)
            keys = [o["Key"] for o in client.list_objects_v2(Bucket=bucket)["Contents"]]
            assert keys == ["mlartifacts/1/r/artifacts/m.bin"]


def temp_dir(root: Path, sub: str = "cut") -> list[Path]:
    directory = root / sub
    return list(directory.iterdir()) if directory.is_dir() else []


def wait_for(condition: object, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")
