"""A real ``modelyard server --auth`` (gunicorn) and ``modelyard serve`` with a read-only token."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression

import registry as mlflow
import registry.sklearn
from registry.client.tracking_uri import reset_tracking_uri
from tests.conftest import free_port
from tests.servers import process, registry_server

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]

ADMIN = ("admin", "e2e-admin-password")
API = "/api/2.0/mlflow"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    env = {"REGISTRY_AUTH": "true", "MODELYARD_ADMIN_PASSWORD": ADMIN[1]}
    with registry_server(tmp_path_factory.mktemp("auth"), workers=1, extra_env=env) as base:
        yield base


def test_anonymous_cross_origin_and_foreign_host_requests_change_nothing(server: str) -> None:
    with httpx.Client(base_url=server, timeout=30) as http:
        assert http.post(f"{API}/experiments/create", json={"name": "x"}).status_code == 401
        put = http.put("/api/2.0/mlflow-artifacts/artifacts/0/r/artifacts/m.pkl", content=b"evil")
        assert put.status_code == 401
        forged = http.post(
            f"{API}/experiments/create",
            content='{"name": "x"}',
            headers={"Content-Type": "text/plain", "Origin": "http://evil.example"},
            auth=ADMIN,
        )
        assert forged.status_code == 403
        rebound = http.post(
            f"{API}/experiments/create",
            json={"name": "x"},
            headers={"Host": "evil.example"},
            auth=ADMIN,
        )
        assert rebound.status_code == 400
        found = http.get(f"{API}/experiments/get-by-name?experiment_name=x", auth=ADMIN)
        assert found.status_code == 404
        assert http.get("/health").status_code == 200


def test_serving_loads_a_model_with_a_read_only_service_account_token(
    server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = httpx.post(
        f"{server}/api/2.0/modelyard/service-accounts/create",
        json={"username": "serving-bot"},
        auth=ADMIN,
    )
    assert token.status_code == 200
    made = httpx.post(
        f"{server}/api/2.0/modelyard/tokens/create",
        json={"username": "serving-bot", "scope": "read", "name": "serve"},
        auth=ADMIN,
    )
    secret = made.json()["secret"]
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", ADMIN[0])
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", ADMIN[1])
    frame = pd.DataFrame(np.arange(12.0).reshape(4, 3), columns=["a", "b", "c"])
    model = LinearRegression().fit(frame, frame["a"] * 2)
    mlflow.set_tracking_uri(server)
    try:
        with mlflow.start_run():
            registry.sklearn.log_model(model, name="model", registered_model_name="guarded")
    finally:
        reset_tracking_uri()
    monkeypatch.delenv("MLFLOW_TRACKING_USERNAME")
    monkeypatch.delenv("MLFLOW_TRACKING_PASSWORD")
    port = free_port()
    args = [sys.executable, "-m", "registry.cli", "serve", "models:/guarded/1"]
    args += ["--tracking-uri", server, "--port", str(port), "--workers", "1"]
    url = f"http://127.0.0.1:{port}"
    (tmp_path / "token").write_text(secret + "\n")  # a mounted secret, as on Kubernetes
    body = {"dataframe_split": frame.to_dict(orient="split", index=False)}
    for env in (
        {"MLFLOW_TRACKING_TOKEN": secret},
        {"MODELYARD_TRACKING_TOKEN_FILE": str(tmp_path / "token")},
    ):
        with process(args, f"{url}/ping", tmp_path / "serve.log", env=env):
            reply = httpx.post(f"{url}/invocations", json=body, timeout=30)
            assert reply.status_code == 200, env
            assert reply.json()["predictions"] == pytest.approx((frame["a"] * 2).tolist())
    refused = httpx.post(
        f"{server}{API}/registered-models/set-tag",
        json={"name": "guarded", "key": "k", "value": "v"},
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert refused.status_code == 403


def test_without_auth_a_public_bind_refuses_to_start(tmp_path: Path) -> None:
    args = [sys.executable, "-m", "registry.cli", "server"]
    args += ["--backend-store-uri", f"sqlite:///{tmp_path / 'r.db'}", "--host", "0.0.0.0"]
    args += ["--port", str(free_port())]
    result = subprocess.run(args, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 2
    assert "without authentication" in result.stderr


def test_a_request_pipelined_after_an_early_401_is_answered(server: str) -> None:
    parts = urlsplit(server)
    body = b"x" * 200_000
    with socket.create_connection((parts.hostname or "", parts.port or 80), timeout=30) as sock:
        sock.sendall(
            b"PUT /api/2.0/mlflow-artifacts/artifacts/0/r/artifacts/big.bin HTTP/1.1\r\n"
            b"Host: 127.0.0.1\r\nContent-Length: %d\r\n\r\n"
            % len(body)
            + body
            + b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
        )
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    assert received.startswith(b"HTTP/1.1 401")
    assert b"HTTP/1.1 200" in received
    assert received.endswith(b"OK")
