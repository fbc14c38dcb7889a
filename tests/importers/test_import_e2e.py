"""The official mlflow client sees the same thing before and after ``modelyard import mlflow``.

On each engine an MLflow store is filled by the official mlflow package (nested runs, a 300-step
metric, a NaN point, a dataset, logged models, a registry with stages, aliases and a deleted
version), imported by the real command, served by a real ``modelyard server`` and read back by
the official client.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests import databases
from tests.conftest import free_port
from tests.importers.conftest import (
    MODEL,
    MlflowStores,
    mlflow_client,
    modelyard,
)
from tests.importers.report_lines import imported_counts
from tests.mlflow_env import MLFLOW_SERVER, MLFLOW_SERVER_QUIET, mlflow_python
from tests.servers import process, registry_server

pytestmark = [pytest.mark.e2e, pytest.mark.compat, pytest.mark.timeout(900)]


@contextmanager
def target_database(engine: str, tmp_path: Path) -> Iterator[str]:
    """An empty Modelyard database on ``engine`` (the import creates its schema)."""
    if engine == "sqlite":
        yield f"sqlite:///{tmp_path / 'modelyard.db'}"
        return
    try:
        context = databases.throwaway_database(engine)
        url = context.__enter__()
    except Exception as err:
        databases.unavailable(engine, err)
    try:
        yield url
    finally:
        context.__exit__(None, None, None)


def comparable(seen: dict[str, Any]) -> dict[str, Any]:
    """What must be equal on both sides: all but artifact locations, which an import rewrites.

    MLflow's SQL store itself answers an alias's version as an int and a missing version
    description as None; over REST both are strings, as Modelyard answers.
    """
    out = {key: value for key, value in seen.items() if key != "locations"}
    out["registered_models"] = {
        name: {**model, "aliases": {a: str(v) for a, v in model["aliases"].items()}}
        for name, model in seen["registered_models"].items()
    }
    out["versions"] = {
        number: {**version, "description": version["description"] or ""}
        for number, version in seen["versions"].items()
    }
    return out


@pytest.mark.parametrize("engine", ["sqlite", "postgres", "mysql"])
def test_official_client_sees_the_same_after_import(
    engine: str, mlflow_stores: MlflowStores, tmp_path: Path
) -> None:
    store = mlflow_stores.get(engine)
    dest = tmp_path / "modelyard-artifacts"
    with target_database(engine, tmp_path) as target:
        args = ["import", "mlflow", "--from", store.uri, "--to", target]
        args += ["--to-artifacts", str(dest)]
        if store.from_artifacts is not None:
            args += ["--from-artifacts", str(store.from_artifacts)]
        first = modelyard(*args, cwd=tmp_path)
        assert first.returncode == 0, first.stdout + first.stderr
        again = modelyard(*args, cwd=tmp_path)
        with registry_server(
            tmp_path, database_url=target, artifact_root=str(dest), port=free_port()
        ) as base:
            seen = mlflow_client("snapshot.py", base, tmp_path, MODEL)
            history = httpx.get(
                f"{base}/api/2.0/modelyard/registered-models/history", params={"name": MODEL}
            ).json()["transitions"]

    assert comparable(seen) == comparable(store.seen)
    assert set(seen["runs"]) >= {
        store.populated["parent_run_id"],
        store.populated["deleted_run_id"],
    }
    assert len(seen["runs"][store.populated["parent_run_id"]]["histories"]["loss"]) == 300
    assert seen[f"models:/{MODEL}/Production"] == pytest.approx(
        store.populated["expected_production"]
    )
    assert seen[f"models:/{MODEL}@challenger"] == pytest.approx(
        store.populated["expected_challenger"]
    )
    assert all(uri.startswith("mlflow-artifacts:/") for uri in seen["locations"].values())
    assert {(h["kind"], h.get("alias"), h["version"], h["to"]) for h in history} == {
        ("stage", None, "1", "Staging"),
        ("stage", None, "2", "Production"),
        ("alias", "champion", "2", "2"),
        ("alias", "challenger", "1", "1"),
    }
    assert {h["comment"] for h in history} == {"imported from MLflow"}
    versions = store.seen["versions"]
    assert {h["timestamp"] for h in history if h["kind"] == "stage"} == {
        versions["1"]["last_updated_timestamp"],
        versions["2"]["last_updated_timestamp"],
    }
    assert again.returncode == 0, again.stdout + again.stderr
    assert imported_counts(again.stdout) == {
        "experiments": 0,
        "runs": 0,
        "logged_models": 0,
        "registered_models": 0,
        "model_versions": 0,
    }
    assert "0 files copied" in again.stdout


def test_import_from_a_running_mlflow_server_over_rest(
    mlflow_stores: MlflowStores, tmp_path: Path
) -> None:
    store = mlflow_stores.get("sqlite")
    assert store.from_artifacts is not None
    source_db = tmp_path / "mlflow.db"
    shutil.copy(store.uri[len("sqlite:///") :], source_db)
    port = free_port()
    mlflow_server = [
        str(mlflow_python(MLFLOW_SERVER)), "-m", "mlflow", "server",
        "--backend-store-uri", f"sqlite:///{source_db}",
        "--artifacts-destination", str(store.from_artifacts),
        "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
    ]  # fmt: skip
    target = f"sqlite:///{tmp_path / 'modelyard.db'}"
    dest = tmp_path / "modelyard-artifacts"
    source_url = f"http://127.0.0.1:{port}"
    log = tmp_path / "mlflow.log"
    with process(mlflow_server, f"{source_url}/health", log, env=MLFLOW_SERVER_QUIET, timeout=180):
        result = modelyard(
            "import", "mlflow", "--from", source_url, "--to", target, "--to-artifacts", str(dest),
            cwd=tmp_path,
        )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    with registry_server(
        tmp_path, database_url=target, artifact_root=str(dest), port=free_port()
    ) as base:
        seen = mlflow_client("snapshot.py", base, tmp_path, MODEL)

    assert comparable(seen) == comparable(store.seen)
    files = sum(1 for path in store.from_artifacts.rglob("*") if path.is_file())
    assert f"artifacts: {files} files copied" in result.stdout  # through MLflow's proxy
