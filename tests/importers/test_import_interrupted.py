"""An import killed (SIGKILL) while it writes leaves nothing half-imported, and a second import
completes it to exactly what an uninterrupted import gives.

The source is the populated SQLite MLflow store (registry included) plus 600 synthetic runs of
5 metrics x 40 steps, so that the import is still writing (100 runs a transaction) when the first
groups are visible.
"""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from benchmarks.import_mlflow import _write_runs
from registry.store import close_database, open_database, use_database
from registry.store.imports import read_model_versions, read_run, run_summaries
from registry.store.mlflow_source import open_mlflow_database
from tests.importers.conftest import MODEL, MlflowStores, modelyard

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

SYNTHETIC_RUNS = 600
STEPS = 40
SURROGATE = {"id"}
"""Columns that number rows in the order they were written, which an interrupted import changes."""
SCHEMA_LOG = "schema_versions"
"""When each migration was applied: the only table where two imports' times differ."""


def count(path: Path, sql: str) -> int:
    """One number from the target database; 0 while it has no schema yet."""
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30) as conn:
            return int(conn.execute(sql).fetchone()[0])
    except sqlite3.OperationalError:
        return 0


def dump(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, sorted, without surrogate ids."""
    with sqlite3.connect(path) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        out = {}
        for table in tables:
            if table == SCHEMA_LOG:
                continue
            columns = [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]
            kept = [c for c in columns if c not in SURROGATE]
            rows = conn.execute(f"SELECT {', '.join(kept)} FROM {table}").fetchall()
            out[table] = sorted(rows, key=repr)
    return out


def test_a_killed_import_leaves_whole_runs_and_versions_and_a_rerun_completes_it(
    mlflow_stores: MlflowStores, tmp_path: Path
) -> None:
    shared = mlflow_stores.get("sqlite")
    source = tmp_path / "mlflow.db"
    shutil.copy(shared.uri[len("sqlite:///") :], source)
    with sqlite3.connect(source) as conn:
        experiment = int(shared.populated["experiment_id"])
        for first in range(0, SYNTHETIC_RUNS, 500):
            _write_runs(conn, experiment, range(first, min(first + 500, SYNTHETIC_RUNS)), 5, STEPS)
    killed_db, whole_db = tmp_path / "killed.db", tmp_path / "whole.db"

    def args(target: Path) -> list[str]:
        return ["import", "mlflow", "--from", f"sqlite:///{source}", "--from-artifacts",
                str(shared.from_artifacts), "--to", f"sqlite:///{target}",
                "--artifacts", "keep"]  # fmt: skip

    importer = subprocess.Popen(
        [sys.executable, "-m", "registry.cli", *args(killed_db)],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=os.environ.copy(),
    )
    try:
        while importer.poll() is None and count(killed_db, "SELECT COUNT(*) FROM runs") == 0:
            time.sleep(0.05)  # polling for the first committed group, not timing anything
        importer.send_signal(signal.SIGKILL)
    finally:
        importer.wait(timeout=60)
    assert importer.returncode == -signal.SIGKILL
    stored = count(killed_db, "SELECT COUNT(*) FROM runs")
    assert 0 < stored < SYNTHETIC_RUNS  # killed in the middle of the runs

    reader = open_mlflow_database(f"sqlite:///{source}")
    database = open_database(f"sqlite:///{killed_db}")
    try:
        ids = reader.run_ids(None)
        wanted = reader.run_summaries(ids)
        with use_database(database):
            held = run_summaries(ids)
            sample = sorted(held)[:: max(1, len(held) // 25)]
            held_runs = {run_id: read_run(run_id) for run_id in sample}
            versions = read_model_versions(MODEL)
        source_runs = {run.run_id: run for run in reader.runs(sample)}
        source_versions = {v.version: v for v in reader.model_versions(MODEL)}
    finally:
        reader.close()
        close_database(database)
    # every run that is visible is whole: row, params, tags, every point and input
    assert held and all(held[run_id] == wanted[run_id] for run_id in held)
    for run_id, run in held_runs.items():
        assert run is not None
        expected = source_runs[run_id]
        assert sorted(run.metrics, key=repr) == sorted(expected.metrics, key=repr)
        assert (run.params, run.tags) == (expected.params, expected.tags)
    # a version is there whole (tags and stage) or not at all
    for number, version in versions.items():
        assert (version.tags, version.current_stage, version.source) == (
            source_versions[number].tags,
            source_versions[number].current_stage,
            source_versions[number].source,
        )

    resumed = modelyard(*args(killed_db), cwd=tmp_path)
    whole = modelyard(*args(whole_db), cwd=tmp_path)

    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert whole.returncode == 0, whole.stdout + whole.stderr
    resumed_tables, whole_tables = dump(killed_db), dump(whole_db)
    assert len(resumed_tables["runs"]) == count(source, "SELECT COUNT(*) FROM runs")
    # Named, not diffed: pytest's diff of two 100,000-row dumps takes many minutes.
    differing = {
        table: (len(resumed_tables.get(table, [])), len(whole_tables.get(table, [])))
        for table in resumed_tables.keys() | whole_tables.keys()
        if resumed_tables.get(table) != whole_tables.get(table)
    }
    assert differing == {}, "tables that differ (resumed rows, whole rows)"
