"""On-demand benchmark of ``runs/search`` as the REST handler answers it, at N runs.

    python -m benchmarks.search --runs 10000
    python -m benchmarks.search --runs 100000 --database-url postgresql://root@127.0.0.1:5432/bench
    python -m benchmarks.search --runs 10000 --other-runs 12000 --database-url postgresql://...

Populates N runs in the shape ``benchmarks.tracking`` logs (5 params with 3 values each,
5 metrics, 3 tags) with bulk inserts into a fresh SQLite file (or the database at
``--database-url``, migrated first), then, in each of ``--rounds`` rounds, times:

* one ``runs/search`` page of 100 for each case in ``CASES`` (filters and orders, the mixed
  filter-and-order case of ``benchmarks.tracking`` first): the store search, every run's
  params, tags and metrics, and the JSON body, as the handler builds them (no HTTP);
* paging through every run, 1000 a page, newest first and by a metric, following
  ``next_page_token``.

Each figure is also split into the time spent in SQL statements (``execute``: the round trip and
the database's work, as ``registry.store.observe_queries`` sees it) and the rest, the Python
that builds the page (rows to JSON values, ``compact_json``).

Prints the p50/p99 per case and round and the median of the rounds' p50s, and writes all of it
with the commit, ``nproc``, load averages and command to ``--json`` (default
``benchmarks/results/search_<engine>_<runs>.json``, or ``..._run<N>.json`` where that exists).
"""

from __future__ import annotations

import argparse
import gc
import json
import shlex
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.run_info import machine, new_result_path
from registry.server.json_body import compact_json
from registry.server.read_answers import runs_page
from registry.store import db, engine_name, observe_queries, open_database
from registry.store.migrate import upgrade
from registry.store.migrations import m0009_param_tag_value_index as value_index
from registry.store.models import Experiment, LatestMetric, Param, Run, RunTag
from registry.store.run_search import page_of_runs
from registry.store.run_tables import match_count

CHUNK = 500
PAGE = 100
CASES: dict[str, tuple[str, list[str]]] = {
    "metric+param filter, order by another metric": (
        "metrics.m0 > 0.25 and params.p0 = 'v1'",
        ["metrics.m1 DESC"],
    ),
    "metric+param filter, order by the filtered metric": (
        "metrics.m0 > 0.25 and params.p0 = 'v1'",
        ["metrics.m0 DESC"],
    ),
    "param filter, order by a metric": ("params.p0 = 'v1'", ["metrics.m1 ASC"]),
    "metric filter, order by a param": ("metrics.m0 > 0.25", ["params.p4 ASC"]),
    "no filter, order by a metric": ("", ["metrics.m2 DESC"]),
    "no filter, order by a param": ("", ["params.p4 DESC"]),
    "metric+param filter, newest first": ("metrics.m0 > 0.25 and params.p0 = 'v1'", []),
}
PAGING: dict[str, list[str]] = {
    "page through all runs, newest first": [],
    "page through all runs, by a metric": ["metrics.m1 DESC"],
}


def populate(runs: int, shift: float = 0.0) -> int:
    """Add an experiment with ``runs`` runs shaped as ``benchmarks.tracking`` logs them.

    ``shift`` is added to every metric value (1.0: above every value of an unshifted one).
    """
    experiment = Experiment.create(
        name=f"bench-{time.time_ns()}",
        artifact_location="file:///x",
        creation_time=0,
        last_update_time=0,
    )
    now = int(time.time() * 1000)
    for start in range(0, runs, CHUNK):
        numbers = range(start, min(runs, start + CHUNK))
        ids = {n: f"{experiment.experiment_id:04d}{n:028x}" for n in numbers}
        with db.atomic():
            Run.insert_many(
                [
                    {
                        "run_uuid": run_id,
                        "experiment": experiment.experiment_id,
                        "name": f"run-{n}",
                        # Several runs per millisecond, as concurrent clients create them.
                        "start_time": now + n // 4,
                        "artifact_uri": f"file:///x/{run_id}",
                        "status": "FINISHED",
                    }
                    for n, run_id in ids.items()
                ]
            ).execute()
            LatestMetric.insert_many(
                [
                    {
                        "run": run_id,
                        "experiment_id": experiment.experiment_id,
                        "key": f"m{j}",
                        "value": ((n * 7919 + j) % 1000) / 1000 + shift,
                        "timestamp": 1,
                    }
                    for n, run_id in ids.items()
                    for j in range(5)
                ]
            ).execute()
            Param.insert_many(
                [
                    {"run": run_id, "key": f"p{j}", "value": f"v{(n + j) % 3}"}
                    for n, run_id in ids.items()
                    for j in range(4)
                ]
                # p4 has a value per run, for an order by a param that few runs share.
                + [
                    {"run": run_id, "key": "p4", "value": f"v{n * 7919 % runs}"}
                    for n, run_id in ids.items()
                ]
            ).execute()
            RunTag.insert_many(
                [
                    {"run": run_id, "key": f"t{j}", "value": str(n)}
                    for n, run_id in ids.items()
                    for j in range(3)
                ]
            ).execute()
    return int(experiment.experiment_id)


_sql_seconds = [0.0]


def _count_sql(seconds: float) -> None:
    _sql_seconds[0] += seconds


def search(
    experiment_id: int, filter_string: str, order_by: list[str], size: int, token: str | None = None
) -> dict[str, Any]:
    """One ``runs/search`` answer, encoded to JSON text as the handler sends it."""
    args = {
        "experiment_ids": [str(experiment_id)],
        "filter": filter_string,
        "run_view_type": "ACTIVE_ONLY",
        "max_results": size,
        "order_by": order_by,
        "page_token": token,
    }
    answer = runs_page(args)
    if compact_json(answer) is None:  # the handler's json_response falls back to jsonify
        json.dumps(answer, separators=(",", ":"))
    return answer


def time_case(
    experiment_id: int, filter_string: str, order_by: list[str], repeat: int
) -> dict[str, Any]:
    """p50/p99 milliseconds of one page of ``PAGE`` runs, after one warm-up call, and the p50 of
    the search's own queries alone (``page_of_runs``: nothing loaded, no JSON).

    ``cpu_p50_ms`` is this process's CPU time per page: on a busy machine it tells more than
    the wall clock (on SQLite it includes the database's work, on a server it does not).
    ``sql_p50_ms`` is the time inside SQL statements per page (on a server: the round trips and
    the server's work).
    """
    rows = len(search(experiment_id, filter_string, order_by, PAGE).get("runs", []))
    wall, cpu, query, sql = [], [], [], []
    for _ in range(repeat):
        started, started_cpu = time.perf_counter(), time.process_time()
        _sql_seconds[0] = 0.0
        search(experiment_id, filter_string, order_by, PAGE)
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
        sql.append(_sql_seconds[0] * 1000)
        started = time.perf_counter()
        page_of_runs(
            [experiment_id], filter_string, order_by, "ACTIVE_ONLY", offset=0, limit=PAGE + 1
        )
        query.append((time.perf_counter() - started) * 1000)
    wall.sort()
    p99 = wall[min(len(wall) - 1, round(0.99 * (len(wall) - 1)))]
    return {
        "rows": rows,
        "p50_ms": statistics.median(wall),
        "p99_ms": p99,
        "query_p50_ms": statistics.median(query),
        "cpu_p50_ms": statistics.median(cpu),
        "sql_p50_ms": statistics.median(sql),
    }


def time_paging(experiment_id: int, order_by: list[str], runs: int) -> dict[str, Any]:
    """Seconds to read every run, 1000 a page, following the page tokens."""
    started, started_cpu = time.perf_counter(), time.process_time()
    _sql_seconds[0] = 0.0
    token, seen, pages = None, 0, 0
    ids: set[str] = set()
    for _ in range(runs // 1000 + 5):
        page = search(experiment_id, "", order_by, 1000, token)
        pages += 1
        seen += len(page.get("runs", []))
        ids.update(run["info"]["run_id"] for run in page.get("runs", []))
        token = page.get("next_page_token")
        if not token:
            break
    seconds, cpu = time.perf_counter() - started, time.process_time() - started_cpu
    assert seen == len(ids) == runs, f"paged {seen} runs ({len(ids)} distinct) of {runs}"
    return {
        "seconds": seconds,
        "cpu_seconds": cpu,
        "sql_seconds": _sql_seconds[0],
        "runs": seen,
        "pages": pages,
    }


def measure_count(experiment_id: int, repeat: int) -> dict[str, float]:
    """The runs table's "N of M runs match" count for a param (and metric) filter, with the
    ``(key, value, run_id)`` indexes of migration 9 and, on SQLite, without them (dropped, timed,
    restored)."""
    cases = {
        "count, param filter": "params.p1 = 'v2'",
        "count, metric + param filter": "metrics.m0 < 0.5 and params.p1 = 'v2'",
    }
    out: dict[str, float] = {}

    def run_cases(label: str) -> None:
        for name, filter_string in cases.items():
            match_count(experiment_id, filter_string)
            wall = []
            for _ in range(repeat):
                started = time.perf_counter()
                match_count(experiment_id, filter_string)
                wall.append((time.perf_counter() - started) * 1000)
            out[f"{name}, {label}"] = statistics.median(wall)
            print(f"{name}, {label}: p50 {out[f'{name}, {label}']:.1f} ms")

    run_cases("with index")
    if engine_name() == "sqlite":
        value_index.down(db.obj)
        analyze()
        run_cases("without index")
        value_index.up(db.obj)
        analyze()
    return out


def analyze() -> None:
    """Refresh planner statistics, as autovacuum or a nightly ANALYZE would after a bulk load."""
    if engine_name() == "mysql":
        db.execute_sql("ANALYZE TABLE runs, params, run_tags, latest_metrics")
    else:
        db.execute_sql("ANALYZE")


def main() -> None:
    """Populate, measure ``--rounds`` times, print and save the results."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=20, help="searches per case and round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds; the median is reported")
    parser.add_argument(
        "--database-url",
        "--url",
        dest="url",
        help="a database to add the runs to (default: a new SQLite file)",
    )
    parser.add_argument(
        "--experiment-id",
        type=int,
        help="measure runs this script populated earlier in --database-url instead of new ones",
    )
    parser.add_argument(
        "--other-runs",
        type=int,
        default=0,
        help="first populate two other experiments of this many runs each with the same keys,"
        " the first one's metric values above every value of the measured experiment",
    )
    parser.add_argument("--counts", action="store_true", help="also time the runs table's count")
    parser.add_argument(
        "--no-paging", action="store_true", help="skip paging through every run (long at 100,000)"
    )
    parser.add_argument("--json", type=Path, help="where to write the results")
    args = parser.parse_args()
    url = args.url or f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}"
    database = open_database(url)
    observe_queries(_count_sql)
    result: dict[str, Any] = {
        "command": "python -m benchmarks.search " + shlex.join(sys.argv[1:]),
        "runs": args.runs,
        "page_size": PAGE,
        "machine_before": machine(),
    }
    with database.connection_context():
        upgrade()
        engine = engine_name()
        started = time.perf_counter()
        if args.other_runs and not args.experiment_id:
            populate(args.other_runs, shift=1.0)
            populate(args.other_runs)
        experiment_id = args.experiment_id or populate(args.runs)
        result["populate_seconds"] = None if args.experiment_id else time.perf_counter() - started
        print(f"experiment {experiment_id}: {args.runs} runs ({engine})")
        analyze()
        # As the server's workers do once the app is built (registry/server/gunicorn_app.py):
        # what lives as long as the process is not traced again by every full collection.
        gc.collect()
        gc.freeze()
        rounds: list[dict[str, Any]] = []
        for number in range(1, args.rounds + 1):
            found: dict[str, Any] = {}
            for name, (filter_string, order_by) in CASES.items():
                found[name] = time_case(experiment_id, filter_string, order_by, args.repeat)
                figures = found[name]
                print(
                    f"round {number} {name:52s} p50 {figures['p50_ms']:7.1f} ms"
                    f"  p99 {figures['p99_ms']:7.1f} ms"
                    f"  query alone p50 {figures['query_p50_ms']:6.1f} ms"
                    f"  cpu p50 {figures['cpu_p50_ms']:6.1f} ms"
                    f"  sql p50 {figures['sql_p50_ms']:6.1f} ms"
                    f"  ({figures['rows']} rows)"
                )
            for name, order_by in {} if args.no_paging else PAGING.items():
                found[name] = time_paging(experiment_id, order_by, args.runs)
                print(
                    f"round {number} {name:52s} {found[name]['seconds']:7.3f} s"
                    f"  (cpu {found[name]['cpu_seconds']:.3f} s,"
                    f" in sql {found[name]['sql_seconds']:.3f} s)"
                )
            rounds.append(found)
        median = {name: statistics.median(r[name]["p50_ms"] for r in rounds) for name in CASES} | {
            name: statistics.median(r[name]["seconds"] for r in rounds)
            for name in PAGING
            if not args.no_paging
        }
        median_query = {
            name: statistics.median(r[name]["query_p50_ms"] for r in rounds) for name in CASES
        }
        median_sql = {
            name: statistics.median(r[name]["sql_p50_ms"] for r in rounds) for name in CASES
        } | {
            name: statistics.median(r[name]["sql_seconds"] for r in rounds)
            for name in PAGING
            if not args.no_paging
        }
        median_cpu = {
            name: statistics.median(r[name]["cpu_p50_ms"] for r in rounds) for name in CASES
        } | {
            name: statistics.median(r[name]["cpu_seconds"] for r in rounds)
            for name in PAGING
            if not args.no_paging
        }
        print(f"\nmedian of {len(rounds)} rounds ({engine}, {args.runs} runs)")
        for name, value in median.items():
            unit = "s" if name in PAGING else f"ms p50 (query alone {median_query[name]:.1f} ms)"
            print(f"  {name:52s} {value:8.3f} {unit}, in sql {median_sql[name]:.3f}")
        if args.counts:
            result["counts_p50_ms"] = measure_count(experiment_id, max(5, args.repeat // 3))
    result |= {
        "engine": engine,
        "rounds": rounds,
        "median_of_rounds": median,
        "median_of_rounds_query_alone_ms": median_query,
        "median_of_rounds_cpu": median_cpu,
        "median_of_rounds_sql": median_sql,
        "units": {
            "cases": "ms, p50 of --repeat searches (REST answer built, no HTTP)",
            "query_alone": "ms, p50 of the search queries alone (page_of_runs, 101 rows)",
            "cpu": "this process's CPU: ms per page (cases), seconds (paging)",
            "sql": "time inside SQL statements: ms per page (cases), seconds (paging)",
            "paging": "seconds",
        },
        "machine_after": machine(),
    }
    out = args.json or new_result_path(f"search_{engine}_{args.runs}")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"written {out}")


if __name__ == "__main__":
    main()
