"""The Prometheus multiprocess folder a server creates is gone once it exits on SIGTERM."""

from __future__ import annotations

import sys
from pathlib import Path

import httpx
import pytest
from sklearn.linear_model import LinearRegression

from registry.models import sklearn as sklearn_flavor
from tests.conftest import free_port
from tests.servers import process, server_args

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]


def _metrics_dirs(tmp: Path) -> list[Path]:
    return [p for p in tmp.rglob("*") if p.is_dir() and "metrics" in p.name]


def test_registry_server_removes_the_metrics_folder_it_created(tmp_path: Path) -> None:
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    port = free_port()
    args = server_args(f"sqlite:///{tmp_path / 'db.sqlite'}", str(tmp_path / "art"), port)
    env = {"TMPDIR": str(scratch), "PROMETHEUS_MULTIPROC_DIR": ""}
    with process(args, f"http://127.0.0.1:{port}/health", tmp_path / "log", env=env):
        httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10)
        created = _metrics_dirs(scratch)
        assert len(created) == 1
        assert any(created[0].iterdir()), "workers write their metrics files there"
    assert not created[0].exists()


def test_registry_server_keeps_a_metrics_folder_the_user_set(tmp_path: Path) -> None:
    users = tmp_path / "user-metrics"
    users.mkdir()
    port = free_port()
    args = server_args(f"sqlite:///{tmp_path / 'db.sqlite'}", str(tmp_path / "art"), port)
    env = {"PROMETHEUS_MULTIPROC_DIR": str(users)}
    with process(args, f"http://127.0.0.1:{port}/health", tmp_path / "log", env=env):
        httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10)
    assert users.is_dir()


def test_serve_removes_its_work_folder_after_sigterm(tmp_path: Path) -> None:
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    model = LinearRegression().fit([[0.0], [1.0]], [0.0, 2.0])
    sklearn_flavor.save_model(model, tmp_path / "model")
    port = free_port()
    args = [sys.executable, "-m", "registry.cli", "serve", str(tmp_path / "model")]
    args += ["--port", str(port), "--workers", "2"]
    # Longer than serve's graceful timeout (20 s): a worker slow to stop is killed by the
    # master, which then removes the folder; only a SIGKILL of the master itself leaves it.
    with process(
        args,
        f"http://127.0.0.1:{port}/ping",
        tmp_path / "log",
        env={"TMPDIR": str(scratch)},
        stop_timeout=40.0,
    ):
        answer = httpx.post(
            f"http://127.0.0.1:{port}/invocations", json={"instances": [[1.0]]}, timeout=10
        )
        assert answer.status_code == 200
        assert len(_metrics_dirs(scratch)) == 1
    assert list(scratch.iterdir()) == [], (tmp_path / "log").read_text()[-4000:]
