"""Client benchmark (on demand): ``log_metric`` calls until stored, every client against the
same server, and model round trips per flavor.

For each server (``modelyard server`` and ``mlflow server`` 3.17.2, both on SQLite with 2
workers), timed until every point is stored (read back and counted), ``--rounds`` times:

* ours with background batches (the default, ``registry/client/async_logging.py``'s queue),
  and for reference one request per point (``async_logging=False``; timed on ``--per-point``
  calls and scaled, since a commit per point is what makes it slow);
* the official MLflow 3.17.2 client (the venv ``tests.mlflow_env`` builds), sync (its default)
  and with its own async logging (``MLFLOW_ENABLE_ASYNC_LOGGING=true``).

Ours embedded on SQLite (no server) is timed for reference. The medians, the ratios
``MLflow sync / ours`` and ``MLflow async / ours`` per server, the raw timings, the commit,
``nproc``, load and command are written to ``--json`` (default
``benchmarks/results/client_log_metric_<points>.json``, or ``..._run<N>.json`` where that exists).

Run from the repository root::

    python -m benchmarks.client [--points 10000] [--per-point 1000] [--rounds 3]
        [--skip-official] [--skip-models]
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xgboost as xgb
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Lasso

import registry as mlflow
from benchmarks.run_info import machine, new_result_path
from registry.client import Client
from tests.conftest import free_port
from tests.mlflow_env import MLFLOW_SERVER, MLFLOW_SERVER_QUIET, mlflow_python
from tests.servers import process, registry_server

# The official client: ``points`` log_metric calls in one run, ``rounds`` times, each timed
# until flushed and read back; with ``models``, one log_model + load + predict per flavor.
OFFICIAL = r"""
import json, sys, time
import numpy as np, pandas as pd, xgboost as xgb
import mlflow
from sklearn.linear_model import Lasso

points, mode, rounds, models = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4] == "1"
client = mlflow.MlflowClient()
mlflow.set_experiment(f"bench-{mode}-{time.time_ns()}")
mlflow.config.enable_async_logging(mode == "async")
out = {"log_metric": []}
for _ in range(rounds):
    with mlflow.start_run() as run:
        start = time.perf_counter()
        for i in range(points):
            mlflow.log_metric("loss", 1.0 / (i + 1), step=i)
        mlflow.flush_async_logging()
        elapsed = time.perf_counter() - start
    assert len(client.get_metric_history(run.info.run_id, "loss")) == points
    out["log_metric"].append(elapsed)
if models:
    mlflow.config.enable_async_logging(False)
    X = pd.DataFrame({"a": np.linspace(0, 1, 200), "b": np.arange(200.0)})
    y = X.a * 3 + X.b
    cases = {
        "sklearn (skops)": (mlflow.sklearn, Lasso(0.01).fit(X, y), {}),
        "sklearn (cloudpickle)": (mlflow.sklearn, Lasso(0.01).fit(X, y),
                                  {"serialization_format": "cloudpickle"}),
        "xgboost": (mlflow.xgboost, xgb.train({"nthread": 1}, xgb.DMatrix(X, y), 20), {}),
    }
    for label, (flavor, model, kwargs) in cases.items():
        start = time.perf_counter()
        with mlflow.start_run() as run:
            flavor.log_model(model, name="model", **kwargs)
        mlflow.pyfunc.load_model(f"runs:/{run.info.run_id}/model").predict(X.head(5))
        out[label] = time.perf_counter() - start
print(json.dumps(out))
"""

OURS_BATCHED = "ours, background batches (default)"
OURS_SYNC = "ours, one request per point"
MLFLOW_SYNC = "MLflow 3.17.2 client, sync (default)"
MLFLOW_ASYNC = "MLflow 3.17.2 client, MLFLOW_ENABLE_ASYNC_LOGGING=true"


def timed(action: Callable[[], None]) -> float:
    """Seconds ``action`` took."""
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def log_points(client: Client, points: int, sample: int | None = None) -> float:
    """Seconds for ``points`` calls until stored; timed on ``sample`` calls and scaled if given."""
    if sample is not None and sample < points:
        return log_points(client, sample) * points / sample
    run_id = client.create_run(client.create_experiment(f"bench-{time.time_ns()}")).info.run_id

    def work() -> None:
        for i in range(points):
            client.log_metric(run_id, "loss", 1.0 / (i + 1), step=i)
        client.flush()

    elapsed = timed(work)
    stored = len(client.get_metric_history(run_id, "loss"))
    assert stored == points, f"{stored} of {points} points stored"
    return elapsed


def model_round_trips(tracking_uri: str) -> dict[str, float]:
    """Seconds per flavor for log_model, then load_model from ``runs:/`` and predict."""
    mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_experiment("bench-models")
    x = pd.DataFrame({"a": np.linspace(0, 1, 200), "b": np.arange(200.0)})
    y = x.a * 3 + x.b
    cases: dict[str, tuple[object, dict[str, str]]] = {
        "sklearn (skops)": (Lasso(0.01).fit(x, y), {}),
        "sklearn (cloudpickle)": (Lasso(0.01).fit(x, y), {"serialization_format": "cloudpickle"}),
        "xgboost": (xgb.train({"nthread": 1}, xgb.DMatrix(x, y), 20), {}),
    }
    times = {}
    for label, (model, kwargs) in cases.items():
        flavor = mlflow.xgboost if label == "xgboost" else mlflow.sklearn

        def trip(flavor: Any = flavor, model: object = model, kw: dict[str, str] = kwargs) -> None:
            with mlflow.start_run() as run:
                flavor.log_model(model, name="model", **kw)
            mlflow.pyfunc.load_model(f"runs:/{run.info.run_id}/model").predict(x.head(5))

        times[label] = timed(trip)
    return times


@contextmanager
def mlflow_server(tmp: Path) -> Iterator[str]:
    """``mlflow server`` 3.17.2 on SQLite with 2 workers; yields its base URL."""
    python = mlflow_python(MLFLOW_SERVER)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    args = [str(python), "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", str(port),
            "--backend-store-uri", f"sqlite:///{tmp / 'mlflow.db'}",
            "--artifacts-destination", str(tmp / "mlflow-artifacts"), "--workers", "2"]  # fmt: skip
    with process(args, f"{base}/health", tmp / "mlflow-server.log", timeout=300,
                 env=MLFLOW_SERVER_QUIET):  # fmt: skip
        yield base


def official(tmp: Path, base: str, points: int, mode: str, rounds: int, models: bool) -> Any:
    """The official client's timings against ``base`` (see ``OFFICIAL``)."""
    python = mlflow_python(MLFLOW_SERVER)
    script = tmp / "official.py"
    script.write_text(OFFICIAL)
    env = {"MLFLOW_TRACKING_URI": base, "PYTHONWARNINGS": "ignore", "GIT_PYTHON_REFRESH": "quiet"}
    out = subprocess.run(
        [str(python), str(script), str(points), mode, str(rounds), "1" if models else "0"],
        capture_output=True, text=True, check=True, cwd=tmp, env={**os.environ, **env},
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def contenders(
    tmp: Path, base: str, args: argparse.Namespace, models: bool
) -> tuple[dict[str, list[float]], dict[str, float]]:
    """Every client's ``log_metric`` timings against the server at ``base``, in turns."""
    n, sample = args.points, args.per_point
    times: dict[str, list[float]] = {}
    theirs_models: dict[str, float] = {}
    for _ in range(args.rounds):
        times.setdefault(OURS_BATCHED, []).append(log_points(Client(base), n))
        times.setdefault(OURS_SYNC, []).append(
            log_points(Client(base, async_logging=False), n, sample)
        )
    print(f"{base}: {OURS_BATCHED} {times[OURS_BATCHED]}, {OURS_SYNC} {times[OURS_SYNC]}")
    if not args.skip_official:
        for mode, label in (("sync", MLFLOW_SYNC), ("async", MLFLOW_ASYNC)):
            found = official(tmp, base, n, mode, args.rounds, models and mode == "sync")
            times[label] = found.pop("log_metric")
            theirs_models |= found
            print(f"{base}: {label} {times[label]}", flush=True)
    return times, theirs_models


def main() -> None:
    """Run every contender against both servers; print tables and write the JSON."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--points", type=int, default=10_000)
    parser.add_argument("--per-point", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3, help="runs per contender; medians")
    parser.add_argument("--skip-official", action="store_true")
    parser.add_argument("--skip-models", action="store_true")
    parser.add_argument("--json", type=Path, help="where to write the results")
    args = parser.parse_args()
    n = args.points
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    result: dict[str, Any] = {
        "command": "python -m benchmarks.client " + shlex.join(sys.argv[1:]),
        "points": n,
        "per_point_sample": args.per_point,
        "rounds": args.rounds,
        "machine_before": machine(),
        "servers": {},
    }
    models: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        with registry_server(tmp, workers=2) as base:
            times, _ = contenders(tmp, base, args, models=False)
            result["servers"]["modelyard server"] = times
            if not args.skip_models:
                models["ours (modelyard server)"] = model_round_trips(base)
        if not args.skip_official:
            with mlflow_server(tmp) as base:
                times, theirs = contenders(tmp, base, args, models=not args.skip_models)
                result["servers"]["mlflow server 3.17.2"] = times
                if theirs:
                    models["MLflow 3.17.2 client (mlflow server)"] = theirs
        embedded = f"sqlite:///{tmp / 'embedded.db'}"
        result["embedded SQLite, ours, background batches"] = [
            log_points(Client(embedded), n) for _ in range(args.rounds)
        ]
    result["models_seconds"] = models
    summary: dict[str, dict[str, Any]] = {}
    for server, times in result["servers"].items():
        median = {label: statistics.median(values) for label, values in times.items()}
        ours = median[OURS_BATCHED]
        summary[server] = {"median_seconds": median}
        if MLFLOW_SYNC in median:
            summary[server]["mlflow_sync_over_ours"] = median[MLFLOW_SYNC] / ours
            summary[server]["mlflow_async_over_ours"] = median[MLFLOW_ASYNC] / ours
    result["summary"] = summary
    result["machine_after"] = machine()
    for server, figures in summary.items():
        print(f"\n{n:,} log_metric calls against {server}, seconds until all are stored")
        print(f"(median of {args.rounds})\n")
        print("| client | seconds | points/s | ours is faster by |")
        print("|---|---:|---:|---:|")
        ours = figures["median_seconds"][OURS_BATCHED]
        for label, seconds in figures["median_seconds"].items():
            print(f"| {label} | {seconds:.2f} | {n / seconds:,.0f} | {seconds / ours:.1f}x |")
    if models:
        print("\nlog_model + pyfunc.load_model(runs:/...) + predict, seconds, over HTTP\n")
        labels = list(models)
        print("| flavor | " + " | ".join(labels) + " |")
        print("|---|" + "---:|" * len(labels))
        for flavor in next(iter(models.values())):
            cells = [f"{models[label].get(flavor, float('nan')):.2f}" for label in labels]
            print(f"| {flavor} | " + " | ".join(cells) + " |")
    out = args.json or new_result_path(f"client_log_metric_{n}")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"\nwritten {out}")


if __name__ == "__main__":
    main()
