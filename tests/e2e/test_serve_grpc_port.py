"""``modelyard serve`` and its gRPC port: the default one taken only turns gRPC off; a port
asked for that cannot be used is a usage error, before any worker starts."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from sklearn.linear_model import LinearRegression

from registry.models import sklearn as sklearn_flavor
from tests.conftest import free_port
from tests.servers import process

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

DEFAULT_GRPC_PORT = 8081


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("grpc-port") / "model"
    model = LinearRegression().fit([[0.0], [1.0]], [0.0, 2.0])
    sklearn_flavor.save_model(model, path)
    return path


def _serve(model_dir: Path, *flags: str) -> list[str]:
    return [sys.executable, "-m", "registry.cli", "serve", str(model_dir), "--workers", "1", *flags]


@contextmanager
def _held(port: int) -> Iterator[None]:
    # A listener on ``port`` for the block's duration (or another process's, holding it now).
    sock = socket.socket()
    try:
        sock.bind(("127.0.0.1", port))
    except OSError:
        sock.close()
        yield
        return
    with sock:
        sock.listen()
        yield


@pytest.fixture
def taken() -> Iterator[int]:
    """A port something else listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield int(sock.getsockname()[1])


def test_default_grpc_port_taken_serves_http_without_grpc(
    model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SERVING_GRPC_PORT", raising=False)  # the default, as users run it
    with _held(DEFAULT_GRPC_PORT):
        port = free_port()
        log = tmp_path / "serve.log"
        with process(_serve(model_dir, "--port", str(port)), f"http://127.0.0.1:{port}/ping", log):
            answer = httpx.post(
                f"http://127.0.0.1:{port}/invocations", json={"instances": [[1.0]]}, timeout=10
            )
            assert answer.status_code == 200
        text = log.read_text()
        assert text.count("Warning: serving without gRPC") == 1, text
        assert f"default port {DEFAULT_GRPC_PORT}" in text
        assert "gRPC on" not in text and "Traceback" not in text


@pytest.mark.parametrize("how", ["flag", "variable"])
def test_a_grpc_port_asked_for_and_taken_is_a_usage_error(
    model_dir: Path, taken: int, how: str
) -> None:
    args = _serve(model_dir, "--port", str(free_port()))
    env = dict(os.environ)
    if how == "flag":
        args += ["--grpc-port", str(taken)]
    else:
        env["SERVING_GRPC_PORT"] = str(taken)
    done = subprocess.run(args, capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 2, done.stderr
    assert f"cannot use gRPC port {taken}" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout


def test_the_same_port_for_http_and_grpc_is_a_usage_error(model_dir: Path) -> None:
    port = str(free_port())
    args = _serve(model_dir, "--port", port, "--grpc-port", port)
    done = subprocess.run(args, capture_output=True, text=True, env=dict(os.environ), timeout=60)
    assert done.returncode == 2, done.stderr
    assert f"the gRPC port {port} is also the HTTP port" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
