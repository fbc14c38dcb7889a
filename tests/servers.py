"""Real server processes for end-to-end tests: start, wait until they answer, always stop."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.conftest import free_port


def wait_until_responds(
    url: str, timeout: float = 30.0, proc: subprocess.Popen[bytes] | None = None
) -> None:
    """Poll ``url`` until it answers 200 (datasette's ``wait_until_responds``)."""
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before {url} answered")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError as err:
            last = err
        time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer within {timeout}s: {last}")


@contextmanager
def process(
    args: Sequence[str],
    ready_url: str,
    log: Path,
    env: dict[str, str] | None = None,
    timeout: float = 60.0,
    stop_timeout: float = 20.0,
) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``args`` (its output to ``log``) until the block ends; it must answer ``ready_url``.

    At the end it gets SIGTERM, and SIGKILL if it has not exited ``stop_timeout`` s later.
    """
    full_env = {**os.environ, **(env or {})}
    with log.open("wb") as out:
        proc = subprocess.Popen(
            list(args), stdout=out, stderr=subprocess.STDOUT, env=full_env, start_new_session=True
        )
        try:
            try:
                wait_until_responds(ready_url, timeout, proc)
            except Exception as err:
                raise RuntimeError(f"{err}\n--- {log} ---\n{log.read_text()[-4000:]}") from err
            yield proc
        finally:
            stop(proc, timeout=stop_timeout)


@dataclass(frozen=True)
class Command:
    """One process for ``processes``: its command line, the URL that answers once it is ready,
    its log file and the environment it adds to ours."""

    args: Sequence[str]
    ready_url: str
    log: Path
    env: dict[str, str] | None = None


@contextmanager
def processes(commands: Sequence[Command], timeout: float = 60.0) -> Iterator[list[str]]:
    """Start every command at once (their start-ups overlap), wait until each answers its
    ``ready_url``, and stop them all when the block ends. Yields the ready URLs."""
    with ExitStack() as stack:
        started = []
        for command in commands:
            out = stack.enter_context(command.log.open("wb"))
            proc = subprocess.Popen(
                list(command.args),
                stdout=out,
                stderr=subprocess.STDOUT,
                env={**os.environ, **(command.env or {})},
                start_new_session=True,
            )
            stack.callback(stop, proc)
            started.append((command, proc))
        deadline = time.monotonic() + timeout
        for command, proc in started:
            try:
                wait_until_responds(command.ready_url, max(deadline - time.monotonic(), 1.0), proc)
            except Exception as err:
                tail = command.log.read_text()[-4000:]
                raise RuntimeError(f"{err}\n--- {command.log} ---\n{tail}") from err
        yield [command.ready_url for command in commands]


def stop(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM, timeout: float = 20.0) -> None:
    """Stop the process group (gunicorn master and workers) and reap it."""
    if proc.poll() is None:
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            print(
                f"{proc.args} did not stop within {timeout} s of signal {sig}: killed",
                file=sys.stderr,
            )
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def server_args(database_url: str, artifact_root: str, port: int, workers: int = 2) -> list[str]:
    """The ``modelyard server`` command line for a test server on 127.0.0.1."""
    return [
        sys.executable,
        "-m",
        "registry.cli",
        "server",
        "--backend-store-uri",
        database_url,
        "--artifacts-destination",
        artifact_root,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
    ]


@contextmanager
def registry_server(
    tmp_path: Path,
    database_url: str | None = None,
    workers: int = 2,
    artifact_root: str | None = None,
    port: int | None = None,
    extra_env: dict[str, str] | None = None,
) -> Iterator[str]:
    """A real ``modelyard server`` (gunicorn) on a free port; yields its base URL."""
    port = port or free_port()
    database_url = database_url or f"sqlite:///{tmp_path / 'server.db'}"
    artifact_root = artifact_root or str(tmp_path / "server-artifacts")
    args = server_args(database_url, artifact_root, port, workers)
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / f"server-{port}.log"
    with process(args, f"{base}/health", log, env=extra_env):
        yield base


def children(pid: int) -> set[int]:
    """Live (not zombie) processes whose parent is ``pid``, read from /proc."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with suppress(OSError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid and fields[0] != "Z":
                found.add(int(stat.parent.name))
    return found


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie waiting for a reaper counts as gone)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False
