"""``modelyard import mlflow`` on a SQLite MLflow store: dry run, refusal of unknown schemas,
missing artifacts, resumed copies, ``--since`` and re-imports of what changed."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pytest

import registry
import registry.pyfunc
from registry.client.tracking_uri import reset_tracking_uri
from registry.store.model_versions import DELETED as DELETED_VERSION
from tests.conftest import free_port
from tests.importers.conftest import MlflowStore, MlflowStores, modelyard
from tests.importers.report_lines import imported_counts, table_rows
from tests.registry.artifacts.moto_s3 import moto_s3, new_bucket
from tests.servers import registry_server

pytestmark = [pytest.mark.timeout(600)]


@pytest.fixture
def store(mlflow_stores: MlflowStores, tmp_path: Path) -> MlflowStore:
    """A private copy of the SQLite MLflow store (server layout) that a test may change."""
    shared = mlflow_stores.get("sqlite")
    workdir = tmp_path / "mlflow"
    shutil.copytree(shared.workdir, workdir)
    assert shared.from_artifacts is not None
    return MlflowStore(
        "sqlite",
        f"sqlite:///{workdir / 'mlflow.db'}",
        workdir,
        shared.populated,
        shared.seen,
        workdir / shared.from_artifacts.name,
    )


def import_args(store: MlflowStore, tmp_path: Path, *extra: str) -> list[str]:
    return [
        "import",
        "mlflow",
        "--from",
        store.uri,
        "--from-artifacts",
        str(store.from_artifacts),
        "--to",
        f"sqlite:///{tmp_path / 'modelyard.db'}",
        "--to-artifacts",
        str(tmp_path / "dest"),
        *extra,
    ]


def rows(tmp_path: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(tmp_path / "modelyard.db") as conn:
        return list(conn.execute(sql))


def test_dry_run_prints_counts_per_table_and_writes_nothing(
    store: MlflowStore, tmp_path: Path
) -> None:
    result = modelyard(*import_args(store, tmp_path, "--dry-run"), cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert "Dry run: nothing written" in result.stdout
    assert table_rows(result.stdout) == {
        "experiments": [3, 2, 1, 0, 3],  # the Default experiment exists on both sides
        "runs": [5, 5, 0, 0, 5],
        "logged_models": [2, 2, 0, 0, 2],
        "registered_models": [1, 1, 0, 0, 1],
        "model_versions": [3, 3, 0, 0, 3],
    }
    assert rows(tmp_path, "SELECT COUNT(*) FROM runs") == [(0,)]
    assert rows(tmp_path, "SELECT COUNT(*) FROM experiments WHERE experiment_id > 0") == [(0,)]
    assert not (tmp_path / "dest").exists()


def test_an_unknown_schema_revision_is_refused_with_the_supported_ones(tmp_path: Path) -> None:
    source = tmp_path / "future.db"
    with sqlite3.connect(source) as conn:
        conn.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)")
        conn.execute("INSERT INTO alembic_version VALUES ('ffffffffffff')")
    target = tmp_path / "modelyard.db"

    result = modelyard(
        "import", "mlflow", "--from", f"sqlite:///{source}", "--to", f"sqlite:///{target}",
        cwd=tmp_path,
    )  # fmt: skip

    assert result.returncode == 1
    assert "'ffffffffffff' is not supported" in result.stderr
    assert "dc11669786a5" in result.stderr  # MLflow 3.17.2's revision is among those listed
    assert not target.exists()


def test_a_database_that_is_not_mlflow_is_refused(tmp_path: Path) -> None:
    source = tmp_path / "other.db"
    with sqlite3.connect(source) as conn:
        conn.execute("CREATE TABLE things (id INTEGER)")

    result = modelyard(
        "import", "mlflow", "--from", f"sqlite:///{source}",
        "--to", f"sqlite:///{tmp_path / 'modelyard.db'}", cwd=tmp_path,
    )  # fmt: skip

    assert result.returncode == 1
    assert "is not an MLflow database" in result.stderr


def test_a_missing_artifact_is_reported_and_the_rest_imported(
    store: MlflowStore, tmp_path: Path
) -> None:
    parent = store.populated["parent_run_id"]
    artifacts = store.from_artifacts / "1" / parent / "artifacts"  # type: ignore[operator]
    (artifacts / "notes" / "lost.txt").symlink_to(tmp_path / "nowhere")

    result = modelyard(*import_args(store, tmp_path), cwd=tmp_path)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 missing" in result.stdout
    assert "lost.txt" in result.stdout
    assert imported_counts(result.stdout)["runs"] == 5
    copied = tmp_path / "dest" / "1" / parent / "artifacts" / "notes" / "readme.txt"
    assert copied.read_text() == "hello artifacts"


def test_an_interrupted_copy_resumes_and_every_file_matches(
    store: MlflowStore, tmp_path: Path
) -> None:
    parent = store.populated["parent_run_id"]
    source = store.from_artifacts / "1" / parent / "artifacts"  # type: ignore[operator]
    dest = tmp_path / "dest" / "1" / parent / "artifacts"
    (dest / "notes").mkdir(parents=True)
    (dest / "config").mkdir()
    shutil.copy(source / "notes" / "readme.txt", dest / "notes" / "readme.txt")
    whole = (source / "config" / "params.json").read_bytes()
    (dest / "config" / "params.json").write_bytes(whole[: len(whole) // 2])

    result = modelyard(*import_args(store, tmp_path), cwd=tmp_path)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 already there" in result.stdout
    for path in source.rglob("*"):
        if path.is_file():
            copy = dest / path.relative_to(source)
            assert hashlib.sha256(copy.read_bytes()).digest() == (
                hashlib.sha256(path.read_bytes()).digest()
            )


def test_since_limits_runs_and_models_to_what_changed_after(
    store: MlflowStore, tmp_path: Path
) -> None:
    later = modelyard(
        *import_args(store, tmp_path, "--dry-run", "--since", "2999-01-01"), cwd=tmp_path
    )
    everything = modelyard(*import_args(store, tmp_path, "--dry-run", "--since", "0"), cwd=tmp_path)

    assert later.returncode == 0, later.stderr
    assert table_rows(later.stdout)["runs"][0] == 0
    assert table_rows(later.stdout)["registered_models"][0] == 0
    assert table_rows(later.stdout)["experiments"][0] == 3
    assert table_rows(everything.stdout)["runs"][0] == 5


def test_a_second_import_brings_only_what_changed_in_mlflow(
    store: MlflowStore, tmp_path: Path
) -> None:
    first = modelyard(*import_args(store, tmp_path), cwd=tmp_path)
    assert first.returncode == 0, first.stdout + first.stderr
    parent = store.populated["parent_run_id"]
    with sqlite3.connect(store.uri[len("sqlite:///") :]) as conn:  # what MLflow's store writes
        conn.execute(
            "INSERT INTO metrics (key, value, timestamp, run_uuid, step, is_nan)"
            " VALUES ('loss', 0.001, 1800000000000, ?, 300, 0)",
            (parent,),
        )
        conn.execute(
            "UPDATE tags SET value = 'prod' WHERE run_uuid = ? AND key = 'stage'", (parent,)
        )
        conn.execute(
            "UPDATE model_versions SET current_stage = 'Archived',"
            " last_updated_time = 1800000000000 WHERE name = 'imp-regressor' AND version = 1"
        )

    second = modelyard(*import_args(store, tmp_path), cwd=tmp_path)

    assert second.returncode == 0, second.stdout + second.stderr
    assert table_rows(second.stdout)["runs"] == [5, 0, 1, 4, 1]
    assert table_rows(second.stdout)["model_versions"] == [3, 0, 1, 2, 1]
    assert rows(tmp_path, f"SELECT COUNT(*) FROM metrics WHERE run_id = '{parent}'") == [(303,)]
    assert rows(
        tmp_path, f"SELECT value FROM run_tags WHERE run_id = '{parent}' AND key = 'stage'"
    ) == [("prod",)]
    assert rows(
        tmp_path,
        "SELECT from_value, to_value, timestamp FROM transitions"
        " WHERE kind = 'stage' AND version = 1 ORDER BY id",
    ) == [("None", "Staging", store.seen["versions"]["1"]["last_updated_timestamp"]),
          ("Staging", "Archived", 1800000000000)]  # fmt: skip


def test_artifacts_are_copied_from_an_s3_root_to_an_s3_root(
    store: MlflowStore, tmp_path: Path
) -> None:
    import boto3

    assert store.from_artifacts is not None
    with moto_s3() as endpoint:
        bucket = new_bucket(endpoint)
        s3 = boto3.client("s3", endpoint_url=endpoint)
        for path in store.from_artifacts.rglob("*"):
            if path.is_file():
                key = f"mlflow/{path.relative_to(store.from_artifacts).as_posix()}"
                s3.upload_file(str(path), bucket, key)
        result = modelyard(
            "import", "mlflow", "--from", store.uri,
            "--from-artifacts", f"s3://{bucket}/mlflow", "--from-s3-endpoint-url", endpoint,
            "--to", f"sqlite:///{tmp_path / 'modelyard.db'}",
            "--to-artifacts", f"s3://{bucket}/modelyard",
            cwd=tmp_path, env={"REGISTRY_S3_ENDPOINT_URL": endpoint},
        )  # fmt: skip
        copied = {
            item["Key"]: item["Size"]
            for item in s3.list_objects_v2(Bucket=bucket, Prefix="modelyard/")["Contents"]
        }

    assert result.returncode == 0, result.stdout + result.stderr
    assert "check ok   stages and aliases load: 4/4" in result.stdout
    parent = store.populated["parent_run_id"]
    assert copied[f"modelyard/1/{parent}/artifacts/notes/readme.txt"] == len("hello artifacts")
    assert len(copied) == sum(1 for path in store.from_artifacts.rglob("*") if path.is_file())


def test_keep_leaves_artifacts_in_place_and_uris_unchanged(
    store: MlflowStore, tmp_path: Path
) -> None:
    result = modelyard(*import_args(store, tmp_path, "--artifacts", "keep"), cwd=tmp_path)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "check ok   stages and aliases load: 4/4" in result.stdout  # read where they are
    parent = store.populated["parent_run_id"]
    assert rows(tmp_path, f"SELECT artifact_uri FROM runs WHERE run_uuid = '{parent}'") == [
        (f"mlflow-artifacts:/1/{parent}/artifacts",)
    ]
    assert not (tmp_path / "dest").exists()


def test_imported_versions_are_trusted_and_load_with_our_client(
    store: MlflowStore, tmp_path: Path
) -> None:
    result = modelyard(*import_args(store, tmp_path), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    live = f"FROM model_versions WHERE current_stage != '{DELETED_VERSION}'"
    assert rows(tmp_path, f"SELECT COUNT(*) {live} AND model_digest IS NULL") == [(0,)]
    assert rows(tmp_path, f"SELECT COUNT(*) {live}") == [(2,)]

    database = f"sqlite:///{tmp_path / 'modelyard.db'}"
    with registry_server(
        tmp_path, database, artifact_root=str(tmp_path / "dest"), port=free_port()
    ) as base:
        registry.set_tracking_uri(base)
        try:
            for uri in ("models:/imp-regressor/Production", "models:/imp-regressor@challenger"):
                model = registry.pyfunc.load_model(uri)
                assert len(model.predict(np.array([[1.0, 2.0], [3.0, 4.0]]))) == 2, uri
        finally:
            reset_tracking_uri()
