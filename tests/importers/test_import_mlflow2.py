"""An MLflow 2.x database: made by the official mlflow 2.x client, imported, and read back by the
same client from a real Modelyard server."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from registry.store.mlflow_source import SUPPORTED_REVISIONS
from tests.conftest import free_port
from tests.importers.conftest import MODEL, mlflow2_client, modelyard
from tests.importers.test_import_e2e import comparable
from tests.servers import registry_server

pytestmark = [pytest.mark.e2e, pytest.mark.compat, pytest.mark.timeout(900)]


def test_an_mlflow_2_database_imports_and_the_mlflow_2_client_sees_the_same(
    tmp_path: Path,
) -> None:
    workdir = tmp_path / "mlflow2"
    workdir.mkdir()
    source = f"sqlite:///{workdir / 'mlflow.db'}"
    populated = mlflow2_client("populate_mlflow2.py", source, workdir)
    with sqlite3.connect(workdir / "mlflow.db") as conn:
        revision = conn.execute("SELECT version_num FROM alembic_version").fetchone()[0]
    dest = tmp_path / "modelyard-artifacts"
    target = f"sqlite:///{tmp_path / 'modelyard.db'}"

    result = modelyard(
        "import", "mlflow", "--from", source, "--to", target, "--to-artifacts", str(dest),
        cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    with registry_server(
        tmp_path, database_url=target, artifact_root=str(dest), port=free_port()
    ) as base:
        seen = mlflow2_client("snapshot.py", base, tmp_path, MODEL)

    assert populated["mlflow_version"].startswith("2.")
    assert revision in dict(SUPPORTED_REVISIONS)
    assert revision != SUPPORTED_REVISIONS[-1][0]  # an older schema than MLflow 3's
    # MLflow 2 stores a version's source as the artifact path; the import rewrites it
    sources = {n: v.pop("source") for n, v in seen["versions"].items()}
    original = {n: v.pop("source") for n, v in populated["seen"]["versions"].items()}
    assert comparable(seen) == comparable(populated["seen"])
    for number, source_path in original.items():
        run_id = populated["seen"]["versions"][number]["run_id"]
        assert source_path.endswith(f"/{run_id}/artifacts/model")
        assert sources[number].startswith("mlflow-artifacts:/")
        assert sources[number].endswith(f"/{run_id}/artifacts/model")
    assert len(seen["runs"][populated["parent_run_id"]]["histories"]["loss"]) == 150
    assert populated["deleted_run_id"] in seen["runs"]
    assert seen[f"models:/{MODEL}/Production"] == pytest.approx(populated["expected_production"])
    assert seen[f"models:/{MODEL}@challenger"] == pytest.approx(populated["expected_challenger"])
    assert seen["logged_models"] == {}
