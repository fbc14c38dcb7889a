"""SIGKILL a SQLite server's worker, master or both, mid-write: nothing corrupt, nothing lost.

Twenty trials on one database file. Writers log metric batches and remember each batch the
server acknowledged (HTTP 200); after every kill the file must pass ``PRAGMA integrity_check``
and hold every acknowledged point.
"""

from __future__ import annotations

import itertools
import os
import signal
import sqlite3
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port
from tests.servers import alive, children, process, server_args

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

API = "/api/2.0/mlflow"
WRITERS = 4
BATCH = 10
ACKED_BEFORE_KILL = 40
"""Points acknowledged in a trial before the kill, so the kill lands among running writes."""


class Writers:
    """Threads that log metric batches to one run and record what the server acknowledged."""

    def __init__(self, base: str, run_id: str, steps: Iterator[int]) -> None:
        self.base, self.run_id, self.steps = base, run_id, steps
        self.acked: set[tuple[str, int]] = set()
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.threads = [
            threading.Thread(target=self._write, args=(f"w{i}",)) for i in range(WRITERS)
        ]

    def __enter__(self) -> Writers:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=30)

    def _write(self, key: str) -> None:
        with httpx.Client(base_url=self.base, timeout=10) as http:
            while not self.stop.is_set():
                with self.lock:
                    steps = [next(self.steps) for _ in range(BATCH)]
                metrics = [{"key": key, "value": s, "timestamp": s, "step": s} for s in steps]
                body = {"run_id": self.run_id, "metrics": metrics}
                try:
                    response = http.post(f"{API}/runs/log-batch", json=body)
                except httpx.HTTPError:
                    time.sleep(0.05)  # the process we killed; the next request may land
                    continue
                if response.status_code == 200:
                    with self.lock:
                        self.acked.update((key, s) for s in steps)

    def wait_for(self, count: int) -> None:
        """Block until at least ``count`` points are acknowledged."""
        deadline = time.monotonic() + 60
        while len(self.acked) < count:
            assert time.monotonic() < deadline, f"only {len(self.acked)} points acknowledged"
            time.sleep(0.02)


@contextmanager
def server(tmp_path: Path, database: Path) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """A real two-worker ``modelyard server`` on the file; SIGKILLed afterwards if still up."""
    port = free_port()
    args = server_args(f"sqlite:///{database}", str(tmp_path / "artifacts"), port)
    base = f"http://127.0.0.1:{port}"
    with process(args, f"{base}/health", tmp_path / f"server-{port}.log") as proc:
        try:
            assert not descriptors_on(proc.pid, database), "the master kept the database open"
            yield proc, base
        finally:
            with suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)


def descriptors_on(pid: int, database: Path) -> list[str]:
    """The process's open files that belong to the database (file, -wal, -shm)."""
    found = []
    for entry in Path(f"/proc/{pid}/fd").iterdir():
        with suppress(OSError):
            target = os.readlink(entry)
            if target.startswith(str(database)):
                found.append(target)
    return found


def wait_until_gone(pids: set[int]) -> None:
    """Poll until none of ``pids`` runs (a generous deadline; orphans leave within 1 s)."""
    deadline = time.monotonic() + 15
    while any(alive(pid) for pid in pids):
        assert time.monotonic() < deadline, f"still running: {sorted(pids)}"
        time.sleep(0.05)


def check(database: Path, run_id: str, acked: set[tuple[str, int]]) -> None:
    """The file is intact and holds every acknowledged point."""
    conn = sqlite3.connect(database, timeout=30)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        stored = set(
            conn.execute("SELECT key, step FROM metrics WHERE run_id = ?", (run_id,)).fetchall()
        )
    finally:
        conn.close()
    missing = acked - stored
    assert not missing, f"{len(missing)} acknowledged points missing, e.g. {sorted(missing)[:5]}"


def kill_one_worker(proc: subprocess.Popen[bytes], writers: Writers) -> None:
    """SIGKILL a worker mid-write; the master replaces it and the writers carry on."""
    before = children(proc.pid)
    victim = min(before)
    os.kill(victim, signal.SIGKILL)
    wait_until_gone({victim})
    deadline = time.monotonic() + 30
    while len(children(proc.pid)) < len(before):
        assert time.monotonic() < deadline, "the master did not replace the killed worker"
        time.sleep(0.05)
    writers.wait_for(len(writers.acked) + ACKED_BEFORE_KILL)


def kill_master(proc: subprocess.Popen[bytes], everything: bool) -> None:
    """SIGKILL the master (and, with ``everything``, its workers at the same instant)."""
    workers = children(proc.pid)
    if everything:
        os.killpg(proc.pid, signal.SIGKILL)
    else:
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    wait_until_gone(workers)


def test_kill9_of_worker_master_or_both_loses_no_acknowledged_write(tmp_path: Path) -> None:
    database = tmp_path / "kill9.db"
    steps = itertools.count()
    acked: set[tuple[str, int]] = set()
    with server(tmp_path, database) as (proc, base):
        experiment = httpx.post(f"{base}{API}/experiments/create", json={"name": "kill9"})
        body = {"experiment_id": experiment.json()["experiment_id"]}
        run_id = httpx.post(f"{base}{API}/runs/create", json=body).json()["run"]["info"]["run_id"]
        for _ in range(7):
            with Writers(base, run_id, steps) as writers:
                writers.wait_for(ACKED_BEFORE_KILL)
                kill_one_worker(proc, writers)
            acked |= writers.acked
            check(database, run_id, acked)
    for mode in ["master", "both"] * 6 + ["master"]:
        with server(tmp_path, database) as (proc, base), Writers(base, run_id, steps) as writers:
            writers.wait_for(ACKED_BEFORE_KILL)
            kill_master(proc, everything=mode == "both")
        acked |= writers.acked
        check(database, run_id, acked)
