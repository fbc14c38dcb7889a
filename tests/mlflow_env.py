"""The official ``mlflow`` client, installed once into a cached virtual environment.

The venv sees this machine's site-packages (scikit-learn, xgboost, pandas), so only mlflow and
what it pins beyond them are installed. Tests run mlflow in a subprocess with that venv's
Python: our own process never imports mlflow.
"""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

MLFLOW_3 = os.environ.get("MODELYARD_TEST_MLFLOW3", "mlflow-skinny==3.17.2")
MLFLOW_2 = os.environ.get("MODELYARD_TEST_MLFLOW2", "mlflow-skinny==2.22.5")
MLFLOW_SERVER = os.environ.get("MODELYARD_TEST_MLFLOW_SERVER", "mlflow==3.17.2")
CACHE = Path(os.environ.get("MODELYARD_TEST_CACHE", Path.home() / ".cache" / "modelyard-tests"))


def mlflow_python(requirement: str = MLFLOW_3, extra: tuple[str, ...] = ()) -> Path:
    """The Python of a venv holding ``requirement`` (created on first use, then reused).

    Raises:
        RuntimeError: pip could not install it (the message holds pip's last lines).
    """
    name = "venv-" + "-".join(part.replace("==", "-") for part in (requirement, *extra))
    venv = CACHE / name
    python = venv / "bin" / "python"
    CACHE.mkdir(parents=True, exist_ok=True)
    with (CACHE / f"{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (venv / ".ready").exists():
            return python
        subprocess.run(
            [sys.executable, "-m", "venv", "--system-site-packages", "--clear", str(venv)],
            check=True,
        )
        result = subprocess.run(
            [
                str(python),
                "-m",
                "pip",
                "install",
                "-q",
                "--disable-pip-version-check",
                requirement,
                *extra,
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"pip install {requirement} failed:\n{result.stderr[-3000:]}")
        (venv / ".ready").touch()
    return python


def run_official_client(
    script: Path, tracking_uri: str, cwd: Path, *args: str, requirement: str = MLFLOW_3
) -> dict[str, Any]:
    """Run ``script`` with the official client against ``tracking_uri``; return its last JSON line.

    Retries are off (a failure shows at once) and mlflow's own warnings are silenced.
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
        [str(mlflow_python(requirement)), str(script), *args],
        capture_output=True,
        text=True,
        timeout=420,
        env=env,
        cwd=cwd,
        check=False,
    )
    assert result.returncode == 0, f"{script.name} failed:\n{result.stderr[-6000:]}"
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))
