"""Import benchmark: ``modelyard import mlflow`` on a large MLflow store (on demand, not in CI).

    python -m benchmarks.import_mlflow [--runs 10000] [--metrics 5] [--steps 100]
                                       [--compare-export-import] [--to-server]

The official mlflow (3.17.2, from ``tests.mlflow_env``) creates an empty MLflow SQLite store
(its own schema, every migration applied) and one experiment; the runs, their ``mlflow.runName``
tags, 5 params each and ``metrics x steps`` metric points are then written into MLflow's tables
with SQL, so filling the store takes seconds instead of hours of client calls. Measured, each as
a real process on a fresh target SQLite file:

* the first import (``--artifacts keep``: the synthetic runs have no files);
* a second, idempotent import of the unchanged store (it compares and writes nothing).

``--to-server`` also times the same two imports into a running ``modelyard server --auth``
(gunicorn, 2 workers, SQLite) over HTTP, as its admin (``--to http://...``).

``--compare-export-import`` also times mlflow-export-import 1.2.0 on the same store, in a
separate venv it installs once: ``export-experiment`` from the store's database URI, then
``import-experiment`` into a fresh ``mlflow server`` (the tool needs one to import), and counts
how many run ids and start times it kept. Prints a markdown table.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from tests.conftest import free_port
from tests.mlflow_env import CACHE, MLFLOW_SERVER, mlflow_python
from tests.servers import process

START = 1_700_000_000_000
EXPERIMENT = "bench-import"
EXPORT_IMPORT = ("mlflow-export-import==1.2.0", "mlflow==3.17.2", "tabulate")
"""tabulate: imported by mlflow-export-import 1.2.0 but missing from its requirements."""


def make_store(path: Path, runs: int, metrics: int, steps: int) -> str:
    """An MLflow SQLite store with ``runs`` finished runs; returns the experiment id."""
    uri = f"sqlite:///{path}"
    script = (
        f"import mlflow; mlflow.set_tracking_uri({uri!r});"
        f" print(mlflow.create_experiment({EXPERIMENT!r}))"
    )
    result = subprocess.run(
        [str(mlflow_python(MLFLOW_SERVER)), "-c", script],
        capture_output=True,
        text=True,
        check=True,
    )
    experiment = result.stdout.strip().splitlines()[-1]
    with sqlite3.connect(path) as conn:
        for first in range(0, runs, 500):
            _write_runs(conn, int(experiment), range(first, min(first + 500, runs)), metrics, steps)
    return experiment


def _write_runs(
    conn: sqlite3.Connection, experiment: int, numbers: range, metrics: int, steps: int
) -> None:
    run_rows, tags, params, points, latest = [], [], [], [], []
    for number in numbers:
        run_id = uuid.uuid4().hex
        start = START + number * 1000
        run_rows.append(
            (run_id, f"run-{number}", "UNKNOWN", "", "", "bench", "FINISHED", start, start + 900,
             "", "active", f"/tmp/mlruns/{experiment}/{run_id}/artifacts", experiment)
        )  # fmt: skip
        tags.append(("mlflow.runName", f"run-{number}", run_id))
        params += [(f"p{i}", str(number * i), run_id) for i in range(5)]
        for m in range(metrics):
            points += [
                (f"m{m}", step / (number + 1), start + step, run_id, step, 0)
                for step in range(steps)
            ]
            latest.append(
                (f"m{m}", (steps - 1) / (number + 1), start + steps - 1, steps - 1, 0, run_id)
            )
    conn.executemany(
        "INSERT INTO runs (run_uuid, name, source_type, source_name, entry_point_name, user_id,"
        " status, start_time, end_time, source_version, lifecycle_stage, artifact_uri,"
        " experiment_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        run_rows,
    )
    conn.executemany("INSERT INTO tags (key, value, run_uuid) VALUES (?, ?, ?)", tags)
    conn.executemany("INSERT INTO params (key, value, run_uuid) VALUES (?, ?, ?)", params)
    conn.executemany(
        "INSERT INTO metrics (key, value, timestamp, run_uuid, step, is_nan)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        points,
    )
    conn.executemany(
        "INSERT INTO latest_metrics (key, value, timestamp, step, is_nan, run_uuid)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        latest,
    )


def timed_import(
    source: Path, target: Path | str, workdir: Path, env: dict[str, str] | None = None
) -> tuple[float, str]:
    """Seconds one ``modelyard import mlflow`` process takes, and what it printed.

    ``target`` is a SQLite file, or a server's URL (``env`` then holds its credentials).
    """
    to = target if isinstance(target, str) else f"sqlite:///{target}"
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "registry.cli", "import", "mlflow", "--from",
         f"sqlite:///{source}", "--to", to, "--artifacts", "keep"],
        capture_output=True, text=True, cwd=workdir, check=False,
        env={**os.environ, **(env or {})},
    )  # fmt: skip
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise RuntimeError(f"import failed:\n{result.stdout}\n{result.stderr[-3000:]}")
    return elapsed, result.stdout


def time_server_imports(source: Path, workdir: Path, port: int) -> tuple[float, float]:
    """Seconds of a first and a second import into a ``modelyard server --auth`` over HTTP."""
    password = "bench-admin-password"
    server = [
        sys.executable, "-m", "registry.cli", "server",
        "--backend-store-uri", f"sqlite:///{workdir / 'server.db'}",
        "--artifacts-destination", str(workdir / "server-artifacts"),
        "--host", "127.0.0.1", "--port", str(port), "--workers", "2",
    ]  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    env = {"REGISTRY_AUTH": "true", "MODELYARD_ADMIN_PASSWORD": password}
    admin = {"MLFLOW_TRACKING_USERNAME": "admin", "MLFLOW_TRACKING_PASSWORD": password}
    with process(server, f"{url}/health", workdir / "modelyard-server.log", env=env):
        first, _ = timed_import(source, url, workdir, admin)
        again, _ = timed_import(source, url, workdir, admin)
    return first, again


def export_import_bin() -> Path | None:
    """The bin folder of a venv with mlflow-export-import (made once), or None if it fails."""
    venv = CACHE / "venv-export-import-1.2.0"
    if not (venv / ".ready").exists():
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
        pip = [str(venv / "bin" / "pip"), "install", "-q", "--disable-pip-version-check"]
        if subprocess.run([*pip, *EXPORT_IMPORT], check=False).returncode != 0:
            return None
        (venv / ".ready").touch()
    return venv / "bin"


def time_export_import(source: Path, workdir: Path) -> tuple[float, float, str] | None:
    """Seconds of ``export-experiment`` and of ``import-experiment``, and what was kept.

    Export reads the source store through the official client on its database URI; import
    needs a server (the tool calls REST endpoints itself), so it writes to a fresh
    ``mlflow server`` on SQLite (its start-up is not timed).
    """
    bin_dir = export_import_bin()
    if bin_dir is None:
        return None
    exported, target = workdir / "exported", workdir / "export-import-target.db"
    port = free_port()
    server = [
        str(mlflow_python(MLFLOW_SERVER)), "-m", "mlflow", "server",
        "--backend-store-uri", f"sqlite:///{target}",
        "--artifacts-destination", str(workdir / "export-import-artifacts"),
        "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
    ]  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    export = _timed_tool(bin_dir, f"sqlite:///{source}", "export-experiment",
                         "--experiment", EXPERIMENT, "--output-dir", str(exported))  # fmt: skip
    with process(server, f"{url}/health", workdir / "mlflow-server.log", timeout=180):
        load = _timed_tool(
            bin_dir, url, "import-experiment", "--experiment-name", EXPERIMENT,
            "--input-dir", str(exported),
        )  # fmt: skip
    with sqlite3.connect(source) as a, sqlite3.connect(target) as b:
        ids = {row[0] for row in a.execute("SELECT run_uuid FROM runs")}
        kept = sum(1 for row in b.execute("SELECT run_uuid FROM runs") if row[0] in ids)
        starts = {row[0] for row in a.execute("SELECT start_time FROM runs")}
        same_start = sum(1 for row in b.execute("SELECT start_time FROM runs") if row[0] in starts)
    return (
        export,
        load,
        f"run ids kept: {kept}/{len(ids)}, start times kept: {same_start}/{len(ids)}",
    )


def _timed_tool(bin_dir: Path, tracking_uri: str, *args: str) -> float:
    started = time.perf_counter()
    result = subprocess.run(
        [str(bin_dir / args[0]), *args[1:]],
        env={**os.environ, "MLFLOW_TRACKING_URI": tracking_uri},
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"{args[0]} failed:\n{result.stderr[-3000:]}")
    return time.perf_counter() - started


def main() -> None:
    """Parse arguments, build the store, time the imports and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10000)
    parser.add_argument("--metrics", type=int, default=5)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--compare-export-import", action="store_true")
    parser.add_argument("--to-server", action="store_true")
    parser.add_argument("--port", type=int, default=0, help="the server's port (default: any)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-import-") as tmp:
        workdir = Path(tmp)
        source = workdir / "mlflow.db"
        started = time.perf_counter()
        make_store(source, args.runs, args.metrics, args.steps)
        filled = time.perf_counter() - started
        points = args.runs * args.metrics * args.steps
        first, report = timed_import(source, workdir / "modelyard.db", workdir)
        again, _ = timed_import(source, workdir / "modelyard.db", workdir)
        notes: list[str] = []
        rows: list[tuple[str, float, float | None]] = [
            ("first import", first, points / first),
            ("second import (nothing changed)", again, None),
        ]
        if args.to_server:
            over_http, over_http_again = time_server_imports(
                source, workdir, args.port or free_port()
            )
            rows.append(("first import over HTTP (--to http://...)", over_http, points / over_http))
            rows.append(("second import over HTTP (nothing changed)", over_http_again, None))
        if args.compare_export_import:
            measured = time_export_import(source, workdir)
            if measured is None:
                print("mlflow-export-import did not install: not compared")
            else:
                export, load, kept = measured
                notes.append(f"mlflow-export-import: {kept}")
                rows.append(("mlflow-export-import: export-experiment", export, None))
                rows.append(("mlflow-export-import: import-experiment", load, points / load))
                rows.append(("mlflow-export-import: both", export + load, points / (export + load)))
    print(f"store: {args.runs} runs x {args.metrics} metrics x {args.steps} steps = {points} points"
          f" (filled in {filled:.1f} s)\n")  # fmt: skip
    print("| what | seconds | metric points/s |")
    print("|---|---|---|")
    for name, seconds, rate in rows:
        print(f"| {name} | {seconds:.1f} | {'' if rate is None else f'{rate:,.0f}'} |")
    for note in notes:
        print(f"\n{note}")
    print("\nreport of the first import:\n")
    print(report)


if __name__ == "__main__":
    main()
