"""Request size limits of the registry server: a body cap on the JSON API (uploads excepted) and
log-batch's entry limits checked before any entry is loaded."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from registry.config import Config
from registry.server.app import create_app

API = "/api/2.0/mlflow"
ARTIFACTS = "/api/2.0/mlflow-artifacts/artifacts"

MakeClient = Callable[..., FlaskClient]


@pytest.fixture
def make_client(sqlite_url: str, artifact_root: Path) -> Iterator[MakeClient]:
    apps = []

    def make(**settings: Any) -> FlaskClient:
        config = Config(database_url=sqlite_url, artifact_root=str(artifact_root), **settings)
        app = create_app(config)
        apps.append(app)
        return app.test_client()

    yield make
    for app in apps:
        app.extensions["registry"].database.close_all()


def _run_id(client: FlaskClient) -> str:
    reply = client.post(f"{API}/runs/create", json={"experiment_id": "0"})
    return str(reply.json["run"]["info"]["run_id"])


def _batch(run_id: str, count: int) -> bytes:
    metrics = [{"key": f"m{i}", "value": i, "timestamp": 1, "step": 0} for i in range(count)]
    return json.dumps({"run_id": run_id, "metrics": metrics}).encode()


def test_a_body_over_the_cap_is_413_naming_the_cap(make_client: MakeClient) -> None:
    client = make_client(max_request_bytes=4096)
    run_id = _run_id(client)
    body = _batch(run_id, 200)
    assert len(body) > 4096
    reply = client.post(f"{API}/runs/log-batch", data=body, content_type="application/json")
    assert reply.status_code == 413
    assert reply.json["error_code"] == "PAYLOAD_TOO_LARGE"
    assert "4096" in reply.json["message"]
    assert "REGISTRY_MAX_REQUEST_BYTES" in reply.json["message"]
    run = client.get(f"{API}/runs/get", query_string={"run_id": run_id}).json["run"]
    assert run["data"].get("metrics", []) == []


def test_a_chunked_body_over_the_cap_is_413_too(make_client: MakeClient) -> None:
    client = make_client(max_request_bytes=4096)
    body = _batch(_run_id(client), 200)
    reply = client.post(
        f"{API}/runs/log-batch",
        input_stream=io.BytesIO(body),
        headers={"Transfer-Encoding": "chunked", "Content-Type": "application/json"},
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert reply.status_code == 413
    assert reply.json["error_code"] == "PAYLOAD_TOO_LARGE"
    assert "4096" in reply.json["message"]


def test_the_default_cap_takes_a_full_batch_and_refuses_a_huge_body(
    make_client: MakeClient,
) -> None:
    client = make_client()
    run_id = _run_id(client)
    full = client.post(
        f"{API}/runs/log-batch", data=_batch(run_id, 1000), content_type="application/json"
    )
    assert full.status_code == 200, full.json
    huge = b'{"run_id": "' + run_id.encode() + b'", "tags": [], "x": "' + b"a" * (17 << 20) + b'"}'
    reply = client.post(f"{API}/runs/log-batch", data=huge, content_type="application/json")
    assert (reply.status_code, reply.json["error_code"]) == (413, "PAYLOAD_TOO_LARGE")
    assert str(16 * 1024 * 1024) in reply.json["message"]


def test_artifact_uploads_keep_their_own_limit_and_stream(
    make_client: MakeClient, artifact_root: Path
) -> None:
    client = make_client(max_request_bytes=1024, max_upload_bytes=8192)
    data = b"x" * 4096
    stored = client.put(f"{ARTIFACTS}/0/run/artifacts/model.bin", data=data)
    assert stored.status_code == 200
    assert (artifact_root / "0" / "run" / "artifacts" / "model.bin").read_bytes() == data
    too_big = client.put(f"{ARTIFACTS}/0/run/artifacts/big.bin", data=b"x" * 9000)
    assert (too_big.status_code, too_big.json["error_code"]) == (413, "PAYLOAD_TOO_LARGE")
    assert "8192" in too_big.json["message"]


@pytest.mark.parametrize(("field", "limit"), [("metrics", 1000), ("params", 100), ("tags", 100)])
def test_log_batch_counts_entries_before_loading_any(
    make_client: MakeClient, field: str, limit: int
) -> None:
    client = make_client()
    run_id = _run_id(client)
    # Every entry is invalid: the answer is about the count, so no entry was looked at.
    body = {"run_id": run_id, field: [{"bad": True}] * (limit + 1)}
    reply = client.post(f"{API}/runs/log-batch", json=body)
    assert (reply.status_code, reply.json["error_code"]) == (400, "INVALID_PARAMETER_VALUE")
    assert f"at most {limit} {field}" in reply.json["message"]
    assert f"Got {limit + 1} {field}" in reply.json["message"]


def test_a_million_metrics_are_refused_by_their_count(make_client: MakeClient) -> None:
    client = make_client()
    run_id = _run_id(client)
    body = b'{"run_id": "' + run_id.encode() + b'", "metrics": [' + b",".join([b"{}"] * 1_000_000)
    reply = client.post(f"{API}/runs/log-batch", data=body + b"]}", content_type="application/json")
    assert reply.status_code == 400
    assert "Got 1000000 metrics" in reply.json["message"]


def test_the_cap_is_read_from_the_environment() -> None:
    assert Config.from_env({"REGISTRY_MAX_REQUEST_BYTES": "1000"}).max_request_bytes == 1000
    with pytest.raises(ValueError, match="REGISTRY_MAX_REQUEST_BYTES"):
        Config.from_env({"REGISTRY_MAX_REQUEST_BYTES": "lots"})
