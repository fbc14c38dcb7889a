"""Client benchmark (on demand): 10,000 ``log_metric`` calls, and model round trips per flavor.

Contenders, each timed until every point is stored (read back and counted):
* ours over HTTP against ``modelyard server`` and ours embedded on SQLite, both with
  background batches (the default), and for reference both one request per point
  (``async_logging=False``; timed on ``--per-point`` calls and scaled, since a commit per
  point is what makes it slow and we do not need to watch it 10,000 times);
* the official MLflow 3.17.2 client against ``mlflow server`` (full mlflow venv), sync (its
  default) and with its own async logging.

Run from the repository root::

    python -m benchmarks.client [--points 10000] [--per-point 1000] [--skip-official]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import xgboost as xgb
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Lasso

import registry as mlflow
from registry.client import Client
from tests.conftest import free_port
from tests.mlflow_env import MLFLOW_SERVER, mlflow_python
from tests.servers import process, registry_server

OFFICIAL = r"""
import json, sys, time
import numpy as np, pandas as pd, xgboost as xgb
import mlflow
from sklearn.linear_model import Lasso

points, use_async = int(sys.argv[1]), sys.argv[2] == "async"
client = mlflow.MlflowClient()
mlflow.set_experiment(f"bench-{use_async}")
if use_async:
    mlflow.config.enable_async_logging(True)
out = {}
with mlflow.start_run() as run:
    start = time.perf_counter()
    for i in range(points):
        mlflow.log_metric("loss", 1.0 / (i + 1), step=i)
    mlflow.flush_async_logging()
    out["log_metric"] = time.perf_counter() - start
assert len(client.get_metric_history(run.info.run_id, "loss")) == points
if not use_async:
    X = pd.DataFrame({"a": np.linspace(0, 1, 200), "b": np.arange(200.0)})
    y = X.a * 3 + X.b
    models = {
        "sklearn (skops)": (mlflow.sklearn, Lasso(0.01).fit(X, y), {}),
        "sklearn (cloudpickle)": (mlflow.sklearn, Lasso(0.01).fit(X, y),
                                  {"serialization_format": "cloudpickle"}),
        "xgboost": (mlflow.xgboost, xgb.train({"nthread": 1}, xgb.DMatrix(X, y), 20), {}),
    }
    for label, (flavor, model, kwargs) in models.items():
        start = time.perf_counter()
        with mlflow.start_run() as run:
            flavor.log_model(model, name="model", **kwargs)
        mlflow.pyfunc.load_model(f"runs:/{run.info.run_id}/model").predict(X.head(5))
        out[label] = time.perf_counter() - start
print(json.dumps(out))
"""


def timed(action: Callable[[], None]) -> float:
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

        def trip(flavor: object = flavor, model: object = model, kw: dict = kwargs) -> None:
            with mlflow.start_run() as run:
                flavor.log_model(model, name="model", **kw)  # type: ignore[attr-defined]
            mlflow.pyfunc.load_model(f"runs:/{run.info.run_id}/model").predict(x.head(5))

        times[label] = timed(trip)
    return times


def official(tmp: Path, points: int) -> dict[str, dict[str, float]]:
    python = mlflow_python(MLFLOW_SERVER)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    args = [str(python), "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", str(port),
            "--backend-store-uri", f"sqlite:///{tmp / 'mlflow.db'}",
            "--artifacts-destination", str(tmp / "mlflow-artifacts"), "--workers", "2"]  # fmt: skip
    script = tmp / "official.py"
    script.write_text(OFFICIAL)
    env = {"MLFLOW_TRACKING_URI": base, "PYTHONWARNINGS": "ignore", "GIT_PYTHON_REFRESH": "quiet"}
    results = {}
    with process(args, f"{base}/health", tmp / "mlflow-server.log", timeout=120):
        for mode in ("sync", "async"):
            out = subprocess.run(
                [str(python), str(script), str(points), mode],
                capture_output=True, text=True, check=True, cwd=tmp,
                env={**os.environ, **env},
            )  # fmt: skip
            results[mode] = json.loads(out.stdout.strip().splitlines()[-1])
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=10_000)
    parser.add_argument("--per-point", type=int, default=1000)
    parser.add_argument("--skip-official", action="store_true")
    args = parser.parse_args()
    n, sample = args.points, args.per_point
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    rows: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        with registry_server(tmp, workers=2) as base:
            rows["ours, HTTP, background batches (default)"] = log_points(Client(base), n)
            rows[f"ours, HTTP, one request per point (timed on {sample:,})"] = log_points(
                Client(base, async_logging=False), n, sample
            )
            ours_models = model_round_trips(base)
        embedded = f"sqlite:///{tmp / 'embedded.db'}"
        rows["ours, embedded SQLite, background batches (default)"] = log_points(
            Client(embedded), n
        )
        rows[f"ours, embedded SQLite, one request per point (timed on {sample:,})"] = log_points(
            Client(embedded, async_logging=False), n, sample
        )
        theirs = {} if args.skip_official else official(tmp, n)
    baseline = theirs.get("sync", {}).get("log_metric")
    if theirs:
        rows["MLflow 3.17.2 client vs mlflow server, sync (default)"] = theirs["sync"]["log_metric"]
        rows["MLflow 3.17.2 client vs mlflow server, async logging"] = theirs["async"]["log_metric"]
    print(f"\n{n:,} log_metric calls in one run, seconds until all are stored\n")
    print("| contender | seconds | points/s | speed-up vs MLflow default |")
    print("|---|---:|---:|---:|")
    for label, seconds in rows.items():
        ratio = f"{baseline / seconds:.1f}x" if baseline else "-"
        print(f"| {label} | {seconds:.2f} | {n / seconds:,.0f} | {ratio} |")
    print("\nlog_model + pyfunc.load_model(runs:/...) + predict, seconds, over HTTP\n")
    print("| flavor | ours | MLflow 3.17.2 |")
    print("|---|---:|---:|")
    for label, seconds in ours_models.items():
        other = theirs.get("sync", {}).get(label)
        print(
            f"| {label} | {seconds:.2f} | {other:.2f} |"
            if other
            else f"| {label} | {seconds:.2f} | - |"
        )


if __name__ == "__main__":
    sys.exit(main())
