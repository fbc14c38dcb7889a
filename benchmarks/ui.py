"""On-demand benchmark of the web UI's runs table at scale.

    python -m benchmarks.ui --runs 100000 --requests 30

Populates one experiment with N runs (3 params, 3 metrics, 2 tags each, every 10th run a child
of another; the first 100 runs also get 100-step histories of their 3 metrics) directly through
the models with bulk inserts into a fresh SQLite file. Then it times whole requests through the
Flask test client (search, column values, template): the runs table's first page (target: p50
under 300 ms), other table views, the experiments list and a compare page of 100 runs, and
prints p50/p95 for each.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

from registry.config import Config
from registry.server.app import create_app
from registry.store import db
from registry.store.models import Experiment, LatestMetric, Metric, Param, Run, RunTag

CHUNK = 2000
CASES = {
    "first page (default sort, 50 rows)": "",
    "first page, 200 rows": "?per=200",
    "sorted by a metric": "?sort=metrics.rmse&dir=asc",
    "filtered": "?filter=" + quote("metrics.rmse < 5 and params.model = 'ridge'"),
    "page 100": "?page=100",
    "experiments list": None,
    "compare 100 runs (100 steps x 3 metrics)": "COMPARE",
}
COMPARED = 100
STEPS = 100


def populate(runs: int, seed: int = 7) -> int:
    rng = random.Random(seed)
    experiment = Experiment.create(
        name="bench", artifact_location="mlflow-artifacts:/1", creation_time=0, last_update_time=0
    )
    exp_id = experiment.experiment_id
    for start in range(0, runs, CHUNK):
        ids = [f"{i:032x}" for i in range(start, min(runs, start + CHUNK))]
        with db.atomic():
            Run.insert_many(
                [
                    {
                        "run_uuid": run_id,
                        "experiment": exp_id,
                        "name": f"run-{run_id[-6:]}",
                        "user_id": "bench",
                        "start_time": 1_700_000_000_000 + rng.randrange(10**9),
                        "end_time": 1_700_000_000_000 + 10**9 + rng.randrange(10**6),
                        "artifact_uri": f"mlflow-artifacts:/{exp_id}/{run_id}/artifacts",
                        "status": "FINISHED",
                    }
                    for run_id in ids
                ]
            ).execute()
            Param.insert_many(
                [
                    {"run": run_id, "key": key, "value": value}
                    for run_id in ids
                    for key, value in (
                        ("alpha", str(rng.choice([0.01, 0.1, 1.0]))),
                        ("model", rng.choice(["ridge", "lasso"])),
                        ("max_depth", str(rng.randrange(2, 12))),
                    )
                ]
            ).execute()
            LatestMetric.insert_many(
                [
                    {"run": run_id, "key": key, "value": rng.uniform(0, 20), "timestamp": 0}
                    for run_id in ids
                    for key in ("rmse", "mae", "r2")
                ]
            ).execute()
            RunTag.insert_many(
                [
                    {"run": run_id, "key": key, "value": value}
                    for n, run_id in enumerate(ids)
                    for key, value in (
                        ("mlflow.runName", f"run-{run_id[-6:]}"),
                        *((("mlflow.parentRunId", ids[0]),) if n % 10 == 9 else ()),
                    )
                ]
            ).execute()
    compared = [f"{i:032x}" for i in range(COMPARED)]
    with db.atomic():
        for run_id in compared:
            Metric.insert_many(
                [
                    {
                        "run": run_id,
                        "key": key,
                        "value": rng.uniform(0, 20),
                        "step": step,
                        "timestamp": 1_700_000_000_000 + step * 1000,
                    }
                    for key in ("rmse", "mae", "r2")
                    for step in range(STEPS)
                ]
            ).execute()
    return int(exp_id)


def time_requests(client: object, url: str, requests: int) -> list[float]:
    timings = []
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get(url)  # type: ignore[attr-defined]
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.status_code
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        config = Config(
            database_url=f"sqlite:///{Path(tmp) / 'bench.db'}",
            artifact_root=str(Path(tmp) / "artifacts"),
            auto_migrate=True,
        )
        app = create_app(config)
        started = time.perf_counter()
        with db.connection_context():
            exp_id = populate(args.runs)
            db.execute_sql("ANALYZE")
        print(f"populated {args.runs} runs in {time.perf_counter() - started:.1f}s")
        client = app.test_client()
        for name, query in CASES.items():
            url = "/" if query is None else f"/experiments/{exp_id}{query}"
            if query == "COMPARE":
                url = "/compare?" + "&".join(f"runs={i:032x}" for i in range(COMPARED))
            client.get(url)
            timings = time_requests(client, url, args.requests)
            p50 = statistics.median(timings)
            p95 = statistics.quantiles(timings, n=20)[-1]
            print(f"{name:42s} p50 {p50:7.1f} ms   p95 {p95:7.1f} ms   ({url[:70]})")


if __name__ == "__main__":
    main()
