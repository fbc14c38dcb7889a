"""MLflow stores made by the official mlflow package, populated once per session and engine."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests import databases
from tests.mlflow_env import (
    CACHE,
    MLFLOW_2,
    MLFLOW_SERVER,
    also_build_ahead,
    mlflow_python,
    run_official_client,
)

SCRIPTS = Path(__file__).parent / "scripts"
MODEL = "imp-regressor"


@dataclass
class MlflowStore:
    """A populated MLflow store: its URI, artifact root and what the official client saw."""

    engine: str
    uri: str
    workdir: Path
    populated: dict[str, Any]
    seen: dict[str, Any]
    from_artifacts: Path | None = None


def mlflow_client(script: str, uri: str, cwd: Path, *args: str) -> dict[str, Any]:
    """Run one of ``scripts/`` with the official mlflow (server install) against ``uri``."""
    return run_official_client(SCRIPTS / script, uri, cwd, *args, requirement=MLFLOW_SERVER)


MLFLOW_2_SQL = ("sqlalchemy==2.0.58", "alembic==1.20.1", "greenlet==3.5.6", "mako==1.4.3")
"""What the official mlflow 2.x needs beyond mlflow-skinny (``MLFLOW_2``) to write a SQL store."""


def mlflow2_with_sql() -> tuple[Path, Path]:
    """The ``MLFLOW_2`` venv's Python and a folder with ``MLFLOW_2_SQL`` for its PYTHONPATH.

    The folder is installed once beside the venvs (``uv pip install --target``), so the shared
    venv itself is never changed.
    """
    python = mlflow_python(MLFLOW_2)
    overlay = CACHE / f"overlay-{python.parent.parent.name}-sql"
    with (CACHE / "overlay-mlflow2-sql.lock").open("w") as guard:
        fcntl.flock(guard, fcntl.LOCK_EX)
        if not (overlay / ".ready").exists():
            command = [sys.executable, "-m", "uv", "pip", "install", "-q", "--python",
                       str(python), "--target", str(overlay), *MLFLOW_2_SQL]  # fmt: skip
            subprocess.run(command, check=True, capture_output=True, timeout=600)
            (overlay / ".ready").touch()
    return python, overlay


also_build_ahead(mlflow2_with_sql)


def mlflow2_client(script: str, uri: str, cwd: Path, *args: str) -> dict[str, Any]:
    """Run one of ``scripts/`` with the official mlflow 2.x (and SQLAlchemy) against ``uri``."""
    python, overlay = mlflow2_with_sql()
    env = {
        **os.environ,
        "PYTHONPATH": str(overlay),
        "MLFLOW_TRACKING_URI": uri,
        "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0",
        "PYTHONWARNINGS": "ignore",
        "GIT_PYTHON_REFRESH": "quiet",
    }
    result = subprocess.run(
        [str(python), str(SCRIPTS / script), *args],
        capture_output=True, text=True, timeout=420, env=env, cwd=cwd, check=False,
    )  # fmt: skip
    assert result.returncode == 0, f"{script} failed:\n{result.stderr[-6000:]}"
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def populate(engine: str, uri: str, workdir: Path) -> MlflowStore:
    """Fill ``uri`` with ``populate_mlflow.py`` and record what the official client sees."""
    workdir.mkdir(parents=True, exist_ok=True)
    populated = mlflow_client("populate_mlflow.py", uri, workdir)
    return MlflowStore(engine, uri, workdir, populated, populated.pop("seen"))


def as_server_layout(store: MlflowStore) -> None:
    """Rewrite a SQLite store as an MLflow server with ``--artifacts-destination`` leaves it.

    Such a server records ``mlflow-artifacts:/<exp>/...`` URIs where a local client records
    ``<cwd>/mlruns/<exp>/...`` paths; the files are the same, under the destination.
    """
    root = store.workdir / "mlruns"
    destination = store.workdir / "mlflow-artifacts-destination"
    shutil.move(root, destination)
    prefix = str(root)
    with sqlite3.connect(store.uri[len("sqlite:///") :]) as conn:
        for table, column in (
            ("experiments", "artifact_location"),
            ("runs", "artifact_uri"),
            ("logged_models", "artifact_location"),
            ("model_versions", "storage_location"),
        ):
            conn.execute(
                f"UPDATE {table} SET {column} = replace({column}, ?, 'mlflow-artifacts:')",
                (prefix,),
            )
    store.from_artifacts = destination


class MlflowStores:
    """One populated MLflow store per engine, made on first use and dropped at the end.

    SQLite is left in an MLflow server's layout (``mlflow-artifacts:/`` URIs and a separate
    artifact destination); PostgreSQL and MariaDB keep a local client's ``mlruns`` paths.
    """

    def __init__(self, tmp_path_factory: pytest.TempPathFactory) -> None:
        self._tmp = tmp_path_factory
        self._made: dict[str, MlflowStore] = {}
        self._contexts: list[Any] = []

    def get(self, engine: str) -> MlflowStore:
        """The store on ``engine``; skips (fails in CI) when the server is unreachable."""
        if engine not in self._made:
            if engine == "sqlite":
                store = self._shared_sqlite()
            else:
                try:
                    context = databases.throwaway_database(engine)
                    url = context.__enter__()
                except Exception as err:
                    databases.unavailable(engine, err)
                self._contexts.append(context)
                # Name the drivers: SQLAlchemy 2.1 would pick psycopg 3 for postgresql://.
                uri = url.replace("mysql://", "mysql+pymysql://", 1).replace(
                    "postgresql://", "postgresql+psycopg2://", 1
                )
                store = populate(engine, uri, self._tmp.mktemp(f"mlflow-{engine}"))
            self._made[engine] = store
        return self._made[engine]

    def _shared_sqlite(self) -> MlflowStore:
        """The SQLite store, made once per test run: pytest-xdist's workers share it (tests only
        read it, or copy it first)."""
        base = self._tmp.getbasetemp()
        root = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
        workdir, record = root / "mlflow-sqlite", root / "mlflow-sqlite.json"
        with (root / "mlflow-sqlite.lock").open("w") as guard:
            fcntl.flock(guard, fcntl.LOCK_EX)
            if record.exists():
                saved = json.loads(record.read_text())
                return MlflowStore(
                    "sqlite",
                    saved["uri"],
                    workdir,
                    saved["populated"],
                    saved["seen"],
                    Path(saved["from_artifacts"]),
                )
            store = populate("sqlite", f"sqlite:///{workdir / 'mlflow.db'}", workdir)
            as_server_layout(store)
            saved = {"uri": store.uri, "populated": store.populated, "seen": store.seen}
            record.write_text(json.dumps({**saved, "from_artifacts": str(store.from_artifacts)}))
        return store

    def close(self) -> None:
        """Drop the server databases."""
        for context in reversed(self._contexts):
            context.__exit__(None, None, None)


@pytest.fixture(scope="session")
def mlflow_stores(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MlflowStores]:
    """Populated MLflow stores by engine, shared by the whole session."""
    stores = MlflowStores(tmp_path_factory)
    yield stores
    stores.close()


def modelyard(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the ``modelyard`` command line as a real process (``env`` added to ours)."""
    return subprocess.run(
        [sys.executable, "-m", "registry.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        timeout=300,
        check=False,
    )
