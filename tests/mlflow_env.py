"""The official ``mlflow`` client, installed from a pinned lock into a cached virtual environment.

Each environment is one lock file under ``requirements/`` (``mlflow3.txt``, ``mlflow2.txt``,
``mlflow-server.txt``): the official package plus everything its scripts import (pandas,
scikit-learn, xgboost, scipy) at the project lock's versions. The venv sees nothing of the
interpreter that runs the tests, so the same pins apply in a virtualenv, a conda env or the base
interpreter. It is cached by the hash of its lock and the Python that built it, and rebuilt when
either changes. Tests run mlflow in a subprocess with that venv's Python: our own process never
imports mlflow.
"""

from __future__ import annotations

import fcntl
import hashlib
import importlib.util
import json
import os
import platform
import shutil
import subprocess
import sys
import threading
import time
import tomllib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
LOCKS = ROOT / "requirements"
MLFLOW_3 = "mlflow3"
"""mlflow-skinny 3.x, the client most users have."""
MLFLOW_2 = "mlflow2"
"""mlflow-skinny 2.x, the last major version."""
MLFLOW_SERVER = "mlflow-server"
"""The full mlflow package: its tracking server and `mlflow models serve`."""
KSERVE = "kserve"
"""KServe's Python SDK (its InferenceRESTClient), for the serving conformance tests."""
MLSERVER = "mlserver"
"""MLServer (its V2 request and response types and codecs), for the serving conformance tests."""
MLFLOW_SERVER_QUIET = {"MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
"""Environment for an ``mlflow server`` in tests: without its job runner (a dozen huey consumer
processes no test uses)."""
STALE_SECONDS = 24 * 3600
CACHE = Path(os.environ.get("MODELYARD_TEST_CACHE", Path.home() / ".cache" / "modelyard-tests"))


def _venv_key(lock: Path, with_project: bool) -> str:
    digest = hashlib.sha256(lock.read_bytes())
    # The venv is built from the base interpreter, so venvs of one Python share it.
    digest.update(f"{sys.version}|{platform.machine()}|{sys.base_prefix}".encode())
    if with_project:
        digest.update(f"|{ROOT}|".encode() + (LOCKS / "lock.txt").read_bytes())
        # Only what pip installs matters (the checkout is editable): pytest or ruff settings
        # in pyproject.toml change nothing in the venv.
        project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
        digest.update(json.dumps(project, sort_keys=True).encode())
    return digest.hexdigest()[:16]


def _remove_unused(name: str) -> None:
    """Delete this lock's older venvs that no test has used for a day."""
    for stale in CACHE.glob(f"venv-{name}-*"):
        ready = stale / ".ready"
        if ready.exists() and time.time() - ready.stat().st_mtime > STALE_SECONDS:
            shutil.rmtree(stale, ignore_errors=True)


def _pip(python: Path, *args: str) -> None:
    # uv (in [test]) installs a lock in seconds where pip takes a minute; pip is the fallback.
    if importlib.util.find_spec("uv") is not None:
        command = [sys.executable, "-m", "uv", "pip", "install", "-q", "--python", str(python)]
    else:
        command = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    result = subprocess.run([*command, *args], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"installing {' '.join(args)} failed:\n{result.stderr[-3000:]}")


def mlflow_python(name: str = MLFLOW_3, *, with_project: bool = False) -> Path:
    """The Python of the venv installed from ``requirements/<name>.txt`` (built once, then reused).

    ``with_project`` also installs this checkout (editable, constrained by the project's lock), for
    scripts that use mlflow and Modelyard in one process (a custom pyfunc model pickled by MLflow
    needs mlflow importable where we load it).

    Raises:
        RuntimeError: pip could not install the lock (the message holds pip's last lines).
    """
    lock = LOCKS / f"{name}.txt"
    kind = f"{name}-project" if with_project else name
    venv = CACHE / f"venv-{kind}-{_venv_key(lock, with_project)}"
    python = venv / "bin" / "python"
    CACHE.mkdir(parents=True, exist_ok=True)
    with (CACHE / f"venv-{kind}.lock").open("w") as guard:
        fcntl.flock(guard, fcntl.LOCK_EX)
        ready = venv / ".ready"
        if ready.exists():
            ready.touch()
            return python
        _remove_unused(kind)
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
        _pip(python, "-r", str(lock))
        if with_project:
            _pip(python, "-c", str(LOCKS / "lock.txt"), "-e", str(ROOT))
        (venv / ".ready").touch()
    return python


def run_official_client(
    script: Path,
    tracking_uri: str,
    cwd: Path,
    *args: str,
    requirement: str = MLFLOW_3,
    with_project: bool = False,
) -> dict[str, Any]:
    """Run ``script`` with the official client against ``tracking_uri``; return its last JSON line.

    ``requirement`` names the lock (``MLFLOW_3``, ``MLFLOW_2`` or ``MLFLOW_SERVER``). Retries are
    off (a failure shows at once) and mlflow's own warnings are silenced. ``with_project`` as in
    ``mlflow_python``.
    """
    env = {
        **os.environ,
        "MLFLOW_TRACKING_URI": tracking_uri,
        "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0",
        "MLFLOW_ENABLE_ASYNC_LOGGING": "false",
        "PYTHONWARNINGS": "ignore",
        "GIT_PYTHON_REFRESH": "quiet",
    }
    result = subprocess.run(
        [str(mlflow_python(requirement, with_project=with_project)), str(script), *args],
        capture_output=True,
        text=True,
        timeout=420,
        env=env,
        cwd=cwd,
        check=False,
    )
    assert result.returncode == 0, f"{script.name} failed:\n{result.stderr[-6000:]}"
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


_EXTRA_BUILDS: list[Callable[[], object]] = []


def also_build_ahead(build: Callable[[], object]) -> None:
    """Add ``build`` (say, an overlay on a venv) to what ``build_ahead`` makes."""
    _EXTRA_BUILDS.append(build)


def build_ahead() -> threading.Thread:
    """Start building every venv the tests use, concurrently, in a background thread.

    uv spends most of a build waiting on the network and the disk, so the builds overlap well.
    Each build holds its venv's lock, so a test that needs one meanwhile waits for it; built
    venvs cost only a lock and a stat. A failed build is left for the test that needs it to
    raise (it tries again).
    """

    def build(make: Callable[[], object]) -> None:
        try:
            make()
        except Exception:  # the test that needs this venv builds it again and reports why
            return

    def run() -> None:
        makers: list[Callable[[], object]] = [
            lambda: mlflow_python(MLFLOW_SERVER),
            lambda: mlflow_python(MLFLOW_3, with_project=True),
            lambda: mlflow_python(MLFLOW_3),
            lambda: mlflow_python(MLFLOW_2),
            lambda: mlflow_python(KSERVE),
            lambda: mlflow_python(MLSERVER),
            *_EXTRA_BUILDS,
        ]
        with ThreadPoolExecutor(max_workers=len(makers)) as pool:
            list(pool.map(build, makers))

    thread = threading.Thread(target=run, name="build-venvs", daemon=True)
    thread.start()
    return thread
