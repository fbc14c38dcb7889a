"""The database alone: how fast our schema takes 1,000-point metric batches, with no server.

    python -m benchmarks.insert_ceiling [--database-url postgresql://root@127.0.0.1:5432/test]

A fresh database gets our migrated schema, one experiment and one run. One client then inserts
batches of 1,000 points shaped as ``benchmarks.tracking``'s log-batch (10 keys, 100 steps), each
batch in its own committed transaction, through the driver directly:

- SQLite: ``INSERT OR IGNORE`` of the 1,000 rows as one prepared statement, on a connection with
  the server's pragmas (WAL, ``synchronous=NORMAL``, foreign keys on);
- PostgreSQL: the INSERT that stores a batch packed, one row per key (migration 17, what
  log-batch does since); then ``COPY ... FROM STDIN`` of a row per point into ``metrics``, the
  fastest way into that table (what log-batch approached before); then the same after
  dropping the check that each point's run exists (a scratch database), to show what that
  check costs: the triggers of migration 16, or the foreign key of a schema before it. That
  last pass runs on a table already holding the previous one's points.

The batches are built before the clock. There is no HTTP, decoding, validation or latest-value
upsert: this is the ceiling that log-batch through any server on this schema approaches and
cannot pass. ``benchmarks.tracking --ceiling`` measures it in the same run as the servers.
"""

from __future__ import annotations

import argparse
import io
import json
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from registry.store import sqlite_path
from registry.store.experiments import create_experiment
from registry.store.migrate import schema_session, upgrade
from registry.store.runs import create_run

POINTS_PER_BATCH = 1000
SQLITE_PRAGMAS = (
    "journal_mode = wal",
    "synchronous = normal",
    "foreign_keys = 1",
    "cache_size = -16000",
    "mmap_size = 268435456",
    "wal_autocheckpoint = 10000",
)
"""The pragmas ``registry.store`` opens a SQLite file with that bear on one writer's inserts
(busy_timeout and journal_size_limit do not). Its background checkpoints are left out: with
10,000 pages before SQLite checkpoints in a commit, the batches measured never wait for one."""
_COLUMNS = ("run_id", "value_kind", "key", "value", "timestamp", "step")


def ceiling(url: str, batches: int) -> dict[str, float]:
    """Metrics/s of ``batches`` 1,000-point inserts into the empty database at ``url``."""
    run_id = _prepare(url)
    if url.startswith("sqlite"):
        return {"SQLite INSERT, metrics/s": _sqlite_rate(sqlite_path(url), run_id, batches)}
    if url.startswith("postgres"):
        return {
            "PostgreSQL packed INSERT, metrics/s": _postgresql_packed_rate(url, run_id, batches),
            "PostgreSQL COPY, metrics/s": _postgresql_rate(url, run_id, batches),
            "PostgreSQL COPY without the check of the points' run, metrics/s": _postgresql_rate(
                url, run_id, batches, drop_run_check=True
            ),
        }
    raise ValueError(f"no ceiling for {url.split(':', 1)[0]}")


def _prepare(url: str) -> str:
    """Migrate the database and add one run; its id."""
    with schema_session(url, connect_timeout=10):
        upgrade()
        experiment = create_experiment(f"ceiling-{time.time_ns()}")
        return str(create_run(experiment.experiment_id).run_uuid)


def _batch(b: int) -> list[tuple[str, float, int, int]]:
    # The points benchmarks.tracking sends in its batch number b: (key, value, timestamp, step).
    return [(f"k{i % 10}", i * 0.5, b, b * 100 + i // 10) for i in range(POINTS_PER_BATCH)]


def _timed(batches: int, insert: Callable[[int], None]) -> float:
    started = time.perf_counter()
    for b in range(batches):
        insert(b)
    return batches * POINTS_PER_BATCH / (time.perf_counter() - started)


def _sqlite_rate(path: str, run_id: str, batches: int) -> float:
    connection = sqlite3.connect(path, isolation_level=None)
    for pragma in SQLITE_PRAGMAS:
        connection.execute(f"PRAGMA {pragma}")
    group = "(?1, ?2, ?, ?, ?, ?)"
    statement = f"INSERT OR IGNORE INTO metrics ({', '.join(_COLUMNS)}) VALUES " + ", ".join(
        [group] * POINTS_PER_BATCH
    )
    parameters = []
    for b in range(batches):
        flat: list[Any] = [run_id, 0]
        for row in _batch(b):
            flat.extend(row)
        parameters.append(flat)

    def insert(b: int) -> None:
        connection.execute("BEGIN IMMEDIATE")
        connection.execute(statement, parameters[b])
        connection.execute("COMMIT")

    try:
        rate = _timed(batches, insert)
        if connection.total_changes != batches * POINTS_PER_BATCH:  # none ignored as duplicate
            raise AssertionError(f"stored {connection.total_changes} points, not all")
        return rate
    finally:
        connection.close()


_RUN_CHECK_TRIGGERS = ("modelyard_metrics_insert_names_runs", "modelyard_metrics_update_names_runs")


def _postgresql_rate(url: str, run_id: str, batches: int, drop_run_check: bool = False) -> float:
    import psycopg2

    connection = psycopg2.connect(url)
    try:
        cursor = connection.cursor()
        if drop_run_check:
            cursor.execute(
                "SELECT conname FROM pg_constraint"
                " WHERE conrelid = 'metrics'::regclass AND confrelid = 'runs'::regclass"
            )
            keys = [name for (name,) in cursor.fetchall()]
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE tgrelid = 'metrics'::regclass"
                " AND tgname = ANY(%s)",
                (list(_RUN_CHECK_TRIGGERS),),
            )
            triggers = [name for (name,) in cursor.fetchall()]
            if not keys and len(triggers) != len(_RUN_CHECK_TRIGGERS):
                raise AssertionError("the metrics table has no check of their run to drop")
            for name in keys:
                cursor.execute(f'ALTER TABLE metrics DROP CONSTRAINT "{name}"')
            for name in triggers:
                cursor.execute(f'DROP TRIGGER "{name}" ON metrics')
            connection.commit()
        # Steps past those of an earlier call on the same run, so no point is a duplicate.
        cursor.execute("SELECT COALESCE(MAX(step), -1) + 1 FROM metrics")
        offset = cursor.fetchone()[0]
        data = [
            "".join(
                f"{run_id}\t0\t{key}\t{value!r}\t{timestamp}\t{step + offset}\n"
                for key, value, timestamp, step in _batch(b)
            )
            for b in range(batches)
        ]
        statement = f"COPY metrics ({', '.join(_COLUMNS)}) FROM STDIN"

        def insert(b: int) -> None:
            cursor.copy_expert(statement, io.StringIO(data[b]))
            if cursor.rowcount != POINTS_PER_BATCH:
                raise AssertionError(f"COPY stored {cursor.rowcount} points of a batch")
            connection.commit()

        return _timed(batches, insert)
    finally:
        connection.close()


def _postgresql_packed_rate(url: str, run_id: str, batches: int) -> float:
    import psycopg2

    from registry.store.metric_batches import PACKED_INSERT

    def packed(b: int) -> dict[str, Any]:
        by_key: dict[str, list[tuple[float, int, int]]] = {}
        for key, value, timestamp, step in _batch(b):
            by_key.setdefault(key, []).append((value, timestamp, step))

        def arrays(position: int) -> list[str]:
            return [
                "{" + ",".join(repr(point[position]) for point in points) + "}"
                for points in by_key.values()
            ]

        kinds = ["{" + ",".join("0" * len(points)) + "}" for points in by_key.values()]
        return {
            "run": run_id,
            "keys": list(by_key),
            "steps": arrays(2),
            "timestamps": arrays(1),
            "values": arrays(0),
            "kinds": kinds,
        }

    connection = psycopg2.connect(url)
    try:
        cursor = connection.cursor()
        parameters = [packed(b) for b in range(batches)]

        def insert(b: int) -> None:
            cursor.execute(PACKED_INSERT, parameters[b])
            if cursor.rowcount != len(parameters[b]["keys"]):
                raise AssertionError(f"stored {cursor.rowcount} packed rows of a batch")
            connection.commit()

        return _timed(batches, insert)
    finally:
        connection.close()


def main(argv: list[str] | None = None) -> int:
    """Measure the ceiling ``--repeat`` times on fresh databases; print the medians as JSON."""
    from benchmarks.tracking import LOG_BATCH_CALLS, fresh_database

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="a PostgreSQL server (default: a SQLite file)")
    parser.add_argument("--batches", type=int, default=LOG_BATCH_CALLS)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    runs = []
    for turn in range(args.repeat):
        with (
            tempfile.TemporaryDirectory() as tmp,
            fresh_database(args.database_url, Path(tmp), f"ceiling{turn}") as url,
        ):
            runs.append(ceiling(url, args.batches))
    medians = {name: statistics.median(run[name] for run in runs) for name in runs[0]}
    sys.stdout.write(json.dumps({"median": medians, "runs": runs}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
