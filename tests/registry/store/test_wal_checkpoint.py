"""Writes reach the SQLite database file itself soon after they commit, without a request
paying for the copy: a background thread checkpoints the write-ahead log."""

from __future__ import annotations

import shutil
import sqlite3
import time
from pathlib import Path

from registry.store import close_database, open_database, sqlite_path
from registry.store.experiments import create_experiment
from registry.store.runs import create_run

RUNS = 30


def _runs_in_main_file(database_file: Path, copy: Path) -> int:
    # A copy of the main file alone, without its -wal: only what was checkpointed.
    shutil.copyfile(database_file, copy)
    reader = sqlite3.connect(copy)
    try:
        return int(reader.execute("SELECT COUNT(*) FROM runs").fetchone()[0])
    finally:
        reader.close()


def test_committed_runs_are_copied_into_the_database_file_in_the_background(
    sqlite_url: str, tmp_path: Path
) -> None:
    database = open_database(sqlite_url)
    database_file = Path(sqlite_path(sqlite_url))
    with database.connection_context():
        experiment = create_experiment("checkpointed")
        for _ in range(RUNS):
            create_run(experiment.experiment_id)
        # A few small commits are far below SQLite's own checkpoint threshold, and the
        # connection stays open (closing the last one would checkpoint too).
        deadline = time.monotonic() + 30
        while (found := _runs_in_main_file(database_file, tmp_path / "copy.db")) < RUNS:
            assert time.monotonic() < deadline, f"{found} of {RUNS} runs in the database file"
            time.sleep(0.05)
    close_database(database)
