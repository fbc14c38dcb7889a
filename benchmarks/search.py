"""On-demand benchmark of the compiled run search.

    python -m benchmarks.search --runs 10000
    python -m benchmarks.search --runs 100000 --url postgresql://root@127.0.0.1:5432/bench

Populates N runs (2 metrics, 2 params, 2 tags each) directly through the models with bulk inserts
into a fresh SQLite file (or the database at --url, migrated first), then times the search
``metrics.rmse < 6.8 and params.alpha = '0.1'`` ordered by ``metrics.rmse`` with a page of
1000 rows fetched as model instances, and prints p50/p99.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path

from registry.store import db, engine_name, open_database
from registry.store.filters import search_runs_query
from registry.store.migrate import upgrade
from registry.store.migrations import m0009_param_tag_value_index as value_index
from registry.store.models import Experiment, LatestMetric, Param, Run, RunTag
from registry.store.run_search import page_of_runs
from registry.store.run_tables import match_count

FILTER = "metrics.rmse < 6.8 and params.alpha = '0.1'"
ORDER_BY = ["metrics.rmse"]
CHUNK = 500


def populate(runs: int, seed: int = 7) -> int:
    rng = random.Random(seed)
    experiment = Experiment.create(
        name=f"bench-{time.time_ns()}",
        artifact_location="file:///x",
        creation_time=0,
        last_update_time=0,
    )
    for start in range(0, runs, CHUNK):
        ids = [
            f"{experiment.experiment_id:04d}{i:028x}"
            for i in range(start, min(runs, start + CHUNK))
        ]
        with db.atomic():
            Run.insert_many(
                [
                    {
                        "run_uuid": run_id,
                        "experiment": experiment.experiment_id,
                        "name": f"run-{run_id[-6:]}",
                        "start_time": rng.randrange(10**12),
                        "artifact_uri": f"file:///x/{run_id}",
                        "status": "FINISHED",
                    }
                    for run_id in ids
                ]
            ).execute()
            LatestMetric.insert_many(
                [
                    {"run": run_id, "key": key, "value": rng.uniform(0, 20), "timestamp": 0}
                    for run_id in ids
                    for key in ("rmse", "r2")
                ]
            ).execute()
            Param.insert_many(
                [
                    {"run": run_id, "key": key, "value": value}
                    for run_id in ids
                    for key, value in (
                        ("alpha", rng.choice(["0.1", "0.5", "1.0", "0.01"])),
                        ("model", rng.choice(["ridge", "lasso"])),
                    )
                ]
            ).execute()
            RunTag.insert_many(
                [
                    {"run": run_id, "key": key, "value": value}
                    for run_id in ids
                    for key, value in (("mlflow.runName", run_id[-6:]), ("team", "ml"))
                ]
            ).execute()
    return int(experiment.experiment_id)


def measure(experiment_id: int, repeat: int) -> tuple[list[float], list[float]]:
    """Wall-clock and this process's CPU milliseconds per search (CPU is steadier on a busy box)."""
    wall, cpu = [], []
    rows = 0
    for _ in range(repeat):
        started, started_cpu = time.perf_counter(), time.process_time()
        query = search_runs_query([experiment_id], FILTER, ORDER_BY, "ACTIVE_ONLY")
        rows = len(list(query.limit(1000)))
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    print(f"rows in page: {rows}")
    return sorted(wall), sorted(cpu)


def measure_sort(experiment_id: int, repeat: int) -> None:
    """A 50-row page sorted by a metric the filter does not test: one LEFT JOIN query (what
    ``search_runs_query`` compiles) against ``page_of_runs``, which reads ``latest_metrics``'s
    ``(key, value)`` index and stops after the page."""
    cases = {
        "sort by metric, no filter": ("", ["metrics.r2 DESC"]),
        "sort by metric, param filter": ("params.model = 'ridge'", ["metrics.r2 ASC"]),
    }
    for name, (filter_string, order_by) in cases.items():
        for label, fetch in (
            (
                "one query   ",
                lambda f=filter_string, o=order_by: list(
                    search_runs_query([experiment_id], f, o, "ACTIVE_ONLY").limit(51)
                ),
            ),
            (
                "page_of_runs",
                lambda f=filter_string, o=order_by: page_of_runs(
                    [experiment_id], f, o, "ACTIVE_ONLY", offset=0, limit=51
                ),
            ),
        ):
            fetch()
            wall = []
            for _ in range(repeat):
                started = time.perf_counter()
                fetch()
                wall.append((time.perf_counter() - started) * 1000)
            print(percentiles(f"{name:30s} {label}", sorted(wall)))


def measure_count(experiment_id: int, repeat: int) -> None:
    """The runs table's "N of M runs match" count for a param (and metric) filter, with the
    ``(key, value, run_id)`` indexes of migration 9 and, on SQLite, without them (dropped, timed,
    restored)."""
    cases = {
        "count, param filter         ": "params.model = 'ridge'",
        "count, metric + param filter": "metrics.rmse < 5 and params.model = 'ridge'",
    }

    def run_cases(label: str) -> None:
        for name, filter_string in cases.items():
            match_count(experiment_id, filter_string)
            wall = []
            for _ in range(repeat):
                started = time.perf_counter()
                match_count(experiment_id, filter_string)
                wall.append((time.perf_counter() - started) * 1000)
            print(percentiles(f"{name} {label}", sorted(wall)))

    run_cases("with index   ")
    if engine_name() == "sqlite":
        value_index.down(db.obj)
        analyze()
        run_cases("without index")
        value_index.up(db.obj)
        analyze()


def percentiles(label: str, timings: list[float]) -> str:
    p99 = timings[min(len(timings) - 1, round(0.99 * (len(timings) - 1)))]
    return f"{label} p50 {statistics.median(timings):.1f} ms, p99 {p99:.1f} ms"


def analyze() -> None:
    """Refresh planner statistics, as autovacuum or a nightly ANALYZE would after a bulk load."""
    if engine_name() == "mysql":
        db.execute_sql("ANALYZE TABLE runs, params, run_tags, latest_metrics")
    else:
        db.execute_sql("ANALYZE")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--url", help="a database to add the runs to (default: a new SQLite file)")
    args = parser.parse_args()
    url = args.url or f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}"
    database = open_database(url)
    with database.connection_context():
        upgrade()
        started = time.perf_counter()
        experiment_id = populate(args.runs)
        print(f"populated {args.runs} runs in {time.perf_counter() - started:.1f}s ({url})")
        analyze()
        measure(experiment_id, 3)
        wall, cpu = measure(experiment_id, args.repeat)
        print(percentiles("search wall", wall))
        print(percentiles("search cpu ", cpu))
        measure_sort(experiment_id, max(5, args.repeat // 3))
        measure_count(experiment_id, max(5, args.repeat // 3))


if __name__ == "__main__":
    main()
