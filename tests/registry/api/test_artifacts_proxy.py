"""The artifact proxy under /api/2.0/mlflow-artifacts, driven through the real app."""

import io
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from flask import Flask
from flask.testing import FlaskClient

from registry.config import Config
from registry.server.api.artifacts import artifact_bytes

BASE = "/api/2.0/mlflow-artifacts"
RUN = "1/0123456789abcdef0123456789abcdef/artifacts"


def put(client: FlaskClient, path: str, body: bytes) -> None:
    response = client.put(f"{BASE}/artifacts/{path}", data=body)
    assert response.status_code == 200, response.get_json()


def stored_files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_put_answers_200_with_an_empty_untyped_body_and_get_returns_the_bytes(
    sqlite_client: FlaskClient,
) -> None:
    response = sqlite_client.put(f"{BASE}/artifacts/{RUN}/models_pickle/lin_reg.bin", data=b"\x00x")
    assert response.status_code == 200
    assert response.data == b""
    assert "Content-Type" not in response.headers
    got = sqlite_client.get(f"{BASE}/artifacts/{RUN}/models_pickle/lin_reg.bin")
    assert got.status_code == 200
    assert got.data == b"\x00x"
    assert got.mimetype == "application/octet-stream"


@pytest.mark.parametrize(
    ("name", "mimetype"),
    [
        ("MLmodel", "text/plain"),
        ("conda.yaml", "text/plain"),
        ("input_example.json", "text/plain"),
        ("requirements.txt", "text/plain"),
        ("model.pkl", "application/octet-stream"),
        ("estimator.html", "application/octet-stream"),
        ("no_extension", "application/octet-stream"),
    ],
)
def test_downloads_are_typed_by_name_and_never_sniffed_or_run_as_pages(
    sqlite_client: FlaskClient, name: str, mimetype: str
) -> None:
    put(sqlite_client, f"{RUN}/model/{name}", b"<script>alert(1)</script>")
    response = sqlite_client.get(f"{BASE}/artifacts/{RUN}/model/{name}")
    assert response.mimetype == mimetype
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response.headers["Content-Security-Policy"]


def test_missing_artifact_is_a_json_404_naming_it(sqlite_client: FlaskClient) -> None:
    response = sqlite_client.get(f"{BASE}/artifacts/{RUN}/model/MLmodel")
    assert response.status_code == 404
    body = response.get_json()
    assert body["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    assert body["message"] == f"No such artifact: '{RUN}/model/MLmodel'"


def test_listing_gives_basenames_sizes_for_files_and_empty_object_otherwise(
    sqlite_client: FlaskClient,
) -> None:
    put(sqlite_client, f"{RUN}/models_pickle/lin_reg.bin", b"12345")
    put(sqlite_client, f"{RUN}/estimator.html", b"<p>")
    assert sqlite_client.get(f"{BASE}/artifacts", query_string={"path": RUN}).get_json() == {
        "files": [
            {"path": "estimator.html", "is_dir": False, "file_size": 3},
            {"path": "models_pickle", "is_dir": True},
        ]
    }
    assert sqlite_client.get(f"{BASE}/artifacts").get_json() == {
        "files": [{"path": "1", "is_dir": True}]
    }
    slashed = sqlite_client.get(f"{BASE}/artifacts/", query_string={"path": f"{RUN}/models_pickle"})
    assert slashed.get_json() == {
        "files": [{"path": "lin_reg.bin", "is_dir": False, "file_size": 5}]
    }
    for missing in (f"{RUN}/model", f"{RUN}/estimator.html", "2"):
        response = sqlite_client.get(f"{BASE}/artifacts", query_string={"path": missing})
        assert response.status_code == 200
        assert response.get_json() == {}


def test_delete_removes_a_tree_and_answers_an_empty_object(
    sqlite_client: FlaskClient, artifact_root: Path
) -> None:
    put(sqlite_client, f"{RUN}/model/MLmodel", b"m")
    put(sqlite_client, f"{RUN}/keep.txt", b"k")
    response = sqlite_client.delete(f"{BASE}/artifacts/{RUN}/model")
    assert (response.status_code, response.get_json()) == (200, {})
    assert stored_files(artifact_root) == [f"{RUN}/keep.txt"]


@pytest.mark.parametrize("action", ["create", "complete", "abort"])
def test_multipart_upload_is_not_implemented(sqlite_client: FlaskClient, action: str) -> None:
    response = sqlite_client.post(f"{BASE}/mpu/{action}/{RUN}/big.bin", json={"path": "x"})
    assert response.status_code == 501
    assert response.get_json()["error_code"] == "NOT_IMPLEMENTED"


def test_presigned_urls_are_not_implemented(sqlite_client: FlaskClient) -> None:
    response = sqlite_client.get(f"{BASE}/presigned/{RUN}/big.bin")
    assert response.status_code == 501
    assert response.get_json()["error_code"] == "NOT_IMPLEMENTED"


HOSTILE_URL_PATHS = [
    "../outside",
    "a/../../outside",
    "%2e%2e/outside",
    "%252e%252e/outside",
    "a%2F..%2F..%2Foutside",
    "a%2fb",
    "a%5c..%5coutside",
    "/etc/passwd",
    "%2Fetc%2Fpasswd",
    "a%00b",
    "C:/Windows/x",
    "~/x",
    "%EF%BC%8E%EF%BC%8E/outside",
]


@pytest.mark.parametrize("path", HOSTILE_URL_PATHS)
def test_hostile_paths_are_400_json_on_every_method_and_store_nothing(
    sqlite_client: FlaskClient, artifact_root: Path, path: str
) -> None:
    put(sqlite_client, "kept.txt", b"k")
    for method in ("PUT", "GET", "DELETE"):
        response = sqlite_client.open(f"{BASE}/artifacts/{path}", method=method, data=b"evil")
        assert response.status_code == 400, (method, response.data)
        assert response.get_json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert stored_files(artifact_root) == ["kept.txt"]
    assert not (artifact_root.parent / "outside").exists()


@pytest.mark.parametrize("path", ["..", "../..", "/etc", "%2e%2e", "a/../..", "C:/"])
def test_hostile_listing_paths_are_400(sqlite_client: FlaskClient, path: str) -> None:
    response = sqlite_client.get(f"{BASE}/artifacts", query_string={"path": path})
    assert response.status_code == 400
    assert response.get_json()["error_code"] == "INVALID_PARAMETER_VALUE"


def test_doubled_slashes_are_normalised_not_redirected(sqlite_client: FlaskClient) -> None:
    response = sqlite_client.put(f"{BASE}/artifacts/a//b.txt", data=b"x")
    assert response.status_code == 200
    assert sqlite_client.get(f"{BASE}/artifacts/a/b.txt").data == b"x"


def test_the_root_cannot_be_deleted(sqlite_client: FlaskClient, artifact_root: Path) -> None:
    put(sqlite_client, "kept.txt", b"k")
    for path in ("", ".", "./"):
        response = sqlite_client.delete(f"{BASE}/artifacts/{path}")
        assert response.status_code in (400, 405), path
    assert stored_files(artifact_root) == ["kept.txt"]


@pytest.fixture
def limited_app(sqlite_url: str, artifact_root: Path) -> Iterator[Flask]:
    from registry.server.app import create_app

    app = create_app(
        Config(database_url=sqlite_url, artifact_root=str(artifact_root), max_upload_bytes=10)
    )
    yield app
    app.extensions["registry"].database.close()


def test_a_body_over_the_limit_is_413_and_stores_nothing(
    limited_app: Flask, artifact_root: Path
) -> None:
    client = limited_app.test_client()
    assert client.put(f"{BASE}/artifacts/ok.bin", data=b"x" * 10).status_code == 200
    response = client.put(f"{BASE}/artifacts/ok.bin", data=b"x" * 11)
    assert response.status_code == 413
    assert response.get_json()["error_code"] == "PAYLOAD_TOO_LARGE"
    chunked = client.put(
        f"{BASE}/artifacts/chunked.bin",
        input_stream=io.BytesIO(b"y" * 11),
        headers={"Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert chunked.status_code == 413
    assert stored_files(artifact_root) == ["ok.bin"]
    assert (artifact_root / "ok.bin").read_bytes() == b"x" * 10


def test_a_body_shorter_than_its_content_length_is_refused_and_not_stored(
    sqlite_client: FlaskClient, artifact_root: Path
) -> None:
    # What gunicorn hands over when a client disconnects mid-body: a terminated, short stream.
    response = sqlite_client.put(
        f"{BASE}/artifacts/cut.bin",
        input_stream=io.BytesIO(b"only part"),
        environ_overrides={"wsgi.input_terminated": True, "CONTENT_LENGTH": "1000"},
    )
    assert response.status_code == 400
    assert stored_files(artifact_root) == []


def test_a_chunked_upload_through_an_in_process_wsgi_client_is_stored_whole(
    sqlite_app: Flask,
) -> None:
    def body() -> Iterator[bytes]:
        yield b"first,"
        yield b"second"

    with httpx.Client(transport=httpx.WSGITransport(app=sqlite_app), base_url="http://t") as http:
        response = http.put(f"{BASE}/artifacts/{RUN}/chunked.csv", content=body())
        assert response.request.headers["Transfer-Encoding"] == "chunked"
        assert response.status_code == 200
        assert http.get(f"{BASE}/artifacts/{RUN}/chunked.csv").content == b"first,second"


def test_transfers_are_announced_for_metrics(sqlite_app: Flask) -> None:
    seen: list[tuple[str, int]] = []

    def record(_app: Flask, direction: str, nbytes: int) -> None:
        seen.append((direction, nbytes))

    client = sqlite_app.test_client()
    with artifact_bytes.connected_to(record, sqlite_app):
        put(client, "f.bin", b"x" * 1000)
        assert len(client.get(f"{BASE}/artifacts/f.bin").data) == 1000
    assert seen == [("in", 1000), ("out", 1000)]
