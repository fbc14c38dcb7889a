"""Tracking throughput and latency against any server that speaks MLflow's REST protocol.

    python -m benchmarks.tracking --url http://127.0.0.1:5000 --runs 2000
    python -m benchmarks.tracking --compare-mlflow --runs 10000

With ``--compare-mlflow`` it starts ``mlflow server`` (3.17.2) and ``modelyard server``, both
with 2 workers on free loopback ports, each on a fresh database (SQLite files, or with
``--database-url`` a database of its own created on that PostgreSQL or MySQL server and dropped
afterwards), runs the same workload against each and prints a markdown table with the ratio
ours/mlflow (higher is better for rates, lower for times). ``--repeat N`` runs the whole
comparison N times on fresh servers, the two taking turns, and reports each figure's median;
``--json PATH`` also writes every run's figures with the commit, ``nproc``, the load average and
the command. Every loop is bounded; both servers are stopped at the end.
"""

from __future__ import annotations

import argparse
import http.client
import json
import logging
import os
import select
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import insert_ceiling
from benchmarks.run_info import machine
from tests.conftest import free_port
from tests.mlflow_env import MLFLOW_SERVER, MLFLOW_SERVER_QUIET, mlflow_python
from tests.servers import process

logger = logging.getLogger("benchmarks.tracking")
API = "/api/2.0/mlflow"
SEARCH_FILTER = "metrics.m0 > 0.25 and params.p0 = 'v1'"
SEARCH_ORDER = ["metrics.m1 DESC"]
RETRIES_503 = 6
_JSON = {"Content-Type": "application/json"}
LOG_BATCH_CALLS = 100
"""Batches of 1,000 metrics a client sends (a quarter as many each with 8 clients). Until
2026-12-01 it was 20 (5 each): at 170,000 metrics/s that timed 0.12 s, where one scheduler
hiccup moved the figure by a tenth."""


class Workload:
    """The measured calls, against one base URL.

    Each thread keeps one kept-alive connection of the standard library's ``http.client`` and
    encodes with orjson: the client shares the machine's cores with the server, and httpx
    with stdlib ``json`` cost it about twice the CPU per call (measured 2026-12-01: populating
    runs 210-240/s through httpx, 260/s through this, same server).
    """

    def __init__(self, base: str, runs: int, threads: int) -> None:
        self.base = base
        self.runs = runs
        self.threads = threads
        self.retried = 0
        self._address = urlsplit(base)
        self._prefix = self._address.path.rstrip("/") + API
        self._local = threading.local()

    def _connection(self) -> http.client.HTTPConnection:
        connection: http.client.HTTPConnection | None = getattr(self._local, "connection", None)
        # A kept-alive connection that turned readable while it idled was closed by the
        # server (uvicorn closes one idle for 5 s): open a new one before sending, never
        # send the request twice.
        sock = connection.sock if connection is not None else None
        if sock is not None and select.select([sock], [], [], 0)[0]:
            connection.close()  # type: ignore[union-attr]  # http.client connects it again
        if connection is None:
            address = self._address
            kind = (
                http.client.HTTPSConnection
                if address.scheme == "https"
                else http.client.HTTPConnection
            )
            connection = kind(address.hostname or "127.0.0.1", address.port, timeout=120)
            self._local.connection = connection
        return connection

    def _send(self, path: str, body: bytes) -> tuple[int, bytes]:
        connection = self._connection()
        connection.request("POST", self._prefix + path, body, _JSON)
        response = connection.getresponse()
        return response.status, response.read()

    def post(self, path: str, body: dict[str, Any] | bytes) -> dict[str, Any]:
        """POST ``body`` (a dict, or JSON already encoded) to ``API + path``; its JSON answer."""
        encoded = body if isinstance(body, bytes) else orjson.dumps(body)
        # A 503 (MLflow's answer to a locked SQLite file, ours to a full pool) is retried as
        # MLflow's own client does, after a short wait that counts in the figures.
        for attempt in range(RETRIES_503):
            status, content = self._send(path, encoded)
            if status != 503 or attempt == RETRIES_503 - 1:
                break
            self.retried += 1
            time.sleep(0.05 * 2**attempt)
        if status >= 400:
            raise RuntimeError(f"POST {path} answered {status}: {content[:500]!r}")
        result: dict[str, Any] = orjson.loads(content) if content else {}
        return result

    def new_experiment(self, name: str) -> str:
        return str(
            self.post("/experiments/create", {"name": f"{name}-{time.time_ns()}"})["experiment_id"]
        )

    def new_run(self, experiment_id: str) -> str:
        body = {"experiment_id": experiment_id, "start_time": int(time.time() * 1000)}
        return str(self.post("/runs/create", body)["run"]["info"]["run_id"])

    def log_metric_rate(self, clients: int, calls: int) -> float:
        run_id = self.new_run(self.new_experiment("log-metric"))

        def work(index: int) -> None:
            for i in range(calls):
                body = {"run_id": run_id, "key": f"k{index}", "value": i, "timestamp": i, "step": i}
                self.post("/runs/log-metric", body)

        return clients * calls / _timed_parallel(clients, work)

    def log_batch_rate(self, clients: int, batches: int, *, encode_in_loop: bool = False) -> float:
        """Metrics/s through log-batch: ``clients`` at once, each to its own run.

        The batches are built and encoded before the clock starts, so the figure is the
        server's; with ``encode_in_loop`` each is built and encoded just before it is sent (the
        only way until 2026-12-01, when the client's 1.7 ms per batch was a third of ours).
        """
        experiment_id = self.new_experiment("log-batch")
        run_ids = [self.new_run(experiment_id) for _ in range(clients)]

        def batch(index: int, b: int) -> bytes:
            metrics = [
                {"key": f"k{i % 10}", "value": i * 0.5, "timestamp": b, "step": b * 100 + i // 10}
                for i in range(1000)
            ]
            return orjson.dumps({"run_id": run_ids[index], "metrics": metrics})

        encoded = (
            {}
            if encode_in_loop
            else {(index, b): batch(index, b) for index in range(clients) for b in range(batches)}
        )

        def work(index: int) -> None:
            for b in range(batches):
                body = batch(index, b) if encode_in_loop else encoded[index, b]
                self.post("/runs/log-batch", body)

        return clients * batches * 1000 / _timed_parallel(clients, work)

    def populate(self) -> tuple[str, float]:
        experiment_id = self.new_experiment("population")
        per_thread = self.runs // self.threads

        def work(index: int) -> None:
            for i in range(per_thread):
                run_id = self.new_run(experiment_id)
                n = index * per_thread + i
                body = {
                    "run_id": run_id,
                    "params": [{"key": f"p{j}", "value": f"v{(n + j) % 3}"} for j in range(5)],
                    "metrics": [
                        {"key": f"m{j}", "value": ((n * 7919 + j) % 1000) / 1000, "timestamp": 1}
                        for j in range(5)
                    ],
                    "tags": [{"key": f"t{j}", "value": str(n)} for j in range(3)],
                }
                self.post("/runs/log-batch", body)

        elapsed = _timed_parallel(self.threads, work)
        return experiment_id, per_thread * self.threads / elapsed

    def search_latency(self, experiment_id: str, repeats: int) -> tuple[float, float]:
        body = {
            "experiment_ids": [experiment_id],
            "filter": SEARCH_FILTER,
            "order_by": SEARCH_ORDER,
            "max_results": 100,
        }
        self.post("/runs/search", body)
        samples = []
        for _ in range(repeats):
            started = time.perf_counter()
            self.post("/runs/search", body)
            samples.append((time.perf_counter() - started) * 1000)
        samples.sort()
        return statistics.median(samples), samples[min(len(samples) - 1, int(len(samples) * 0.99))]

    def page_all(self, experiment_id: str) -> tuple[float, int]:
        started = time.perf_counter()
        token, seen = None, 0
        for _ in range(self.runs // 1000 + 5):
            body: dict[str, Any] = {"experiment_ids": [experiment_id], "max_results": 1000}
            if token:
                body["page_token"] = token
            page = self.post("/runs/search", body)
            seen += len(page.get("runs", []))
            token = page.get("next_page_token")
            if not token:
                break
        return time.perf_counter() - started, seen


def _timed_parallel(count: int, work: Callable[[int], None]) -> float:
    started = time.perf_counter()
    with ThreadPoolExecutor(count) as pool:
        for future in [pool.submit(work, i) for i in range(count)]:
            future.result()
    return time.perf_counter() - started


def measure(
    base: str, runs: int, threads: int, calls: int, analyze: Callable[[], None] | None = None
) -> dict[str, float]:
    """Every figure of the workload for the server at ``base``.

    With ``analyze`` (a server database), search is timed again after it runs: fresh tables
    have no planner statistics until autovacuum analyzes them, within about a minute.
    """
    workload = Workload(base, runs, threads)
    figures: dict[str, float] = {}
    figures["log-metric req/s, 1 client"] = workload.log_metric_rate(1, calls)
    figures["log-metric req/s, 8 clients"] = workload.log_metric_rate(8, calls // 2)
    figures["log-batch metrics/s (1000 per call), 1 client"] = workload.log_batch_rate(
        1, LOG_BATCH_CALLS
    )
    figures["log-batch metrics/s (1000 per call), 8 clients"] = workload.log_batch_rate(
        8, LOG_BATCH_CALLS // 4
    )
    figures["log-batch metrics/s (1000 per call), 1 client, each built in the loop"] = (
        workload.log_batch_rate(1, LOG_BATCH_CALLS, encode_in_loop=True)
    )
    experiment_id, rate = workload.populate()
    figures[f"runs/s populating {runs} runs"] = rate
    p50, p99 = workload.search_latency(experiment_id, 50)
    figures["search p50 ms"] = p50
    figures["search p99 ms"] = p99
    if analyze is not None:
        analyze()
        p50, p99 = workload.search_latency(experiment_id, 50)
        figures["search p50 ms, after ANALYZE"] = p50
        figures["search p99 ms, after ANALYZE"] = p99
    seconds, seen = workload.page_all(experiment_id)
    figures[f"s to page through all {seen} runs (1000/page)"] = seconds
    if workload.retried:
        logger.info("%s: %d calls answered 503 and were retried", base, workload.retried)
    return figures


@contextmanager
def fresh_database(server_url: str | None, tmp: Path, name: str) -> Iterator[str]:
    """A new empty database: a SQLite file in ``tmp``, else one created on the server at
    ``server_url`` (PostgreSQL or MySQL) and dropped when the block ends."""
    if not server_url:
        yield f"sqlite:///{tmp / name}.db"
        return
    parts = urlsplit(server_url)
    database = f"bench_{name}_{uuid.uuid4().hex[:8]}"
    url = urlunsplit((parts.scheme, parts.netloc, "/" + database, parts.query, ""))
    if parts.scheme.startswith("postgres"):
        import psycopg2

        admin = psycopg2.connect(server_url)
        admin.autocommit = True
        admin.cursor().execute(f'CREATE DATABASE "{database}"')
        try:
            yield url
        finally:
            admin.cursor().execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            admin.close()
        return
    admin = _mysql(server_url)
    admin.cursor().execute(f"CREATE DATABASE `{database}` CHARACTER SET utf8mb4")
    try:
        yield url
    finally:
        admin.cursor().execute(f"DROP DATABASE IF EXISTS `{database}`")
        admin.close()


def analyze_database(url: str) -> None:
    """Refresh the planner statistics of every table, as autovacuum (or a cron job) would."""
    parts = urlsplit(url)
    if parts.scheme.startswith("postgres"):
        import psycopg2

        connection = psycopg2.connect(url)
        connection.autocommit = True
        connection.cursor().execute("ANALYZE")
        connection.close()
        return
    connection = _mysql(url, parts.path.lstrip("/"))
    cursor = connection.cursor()
    cursor.execute("SHOW TABLES")
    tables = [row[0] for row in cursor.fetchall()]
    if tables:
        cursor.execute("ANALYZE TABLE " + ", ".join(f"`{table}`" for table in tables))
        cursor.fetchall()
    connection.close()


def _mysql(url: str, database: str | None = None) -> Any:
    """An autocommit pymysql connection to the server at ``url`` (to ``database`` if given)."""
    import pymysql

    parts = urlsplit(url)
    return pymysql.connect(
        host=parts.hostname,
        port=parts.port or 3306,
        user=parts.username or "root",
        password=parts.password or "",
        database=database,
        autocommit=True,
    )


@contextmanager
def modelyard_server(tmp: Path, database_url: str) -> Iterator[str]:
    """``modelyard server --workers 2`` on ``database_url``."""
    port = free_port()
    args = [sys.executable, "-m", "registry.cli", "server", "--backend-store-uri", database_url,
            "--artifacts-destination", str(tmp / "my-art"),
            "--host", "127.0.0.1", "--port", str(port), "--workers", "2"]  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    with process(args, f"{base}/health", tmp / "modelyard.log"):
        yield base


@contextmanager
def mlflow_server(tmp: Path, database_url: str) -> Iterator[str]:
    """``mlflow server --workers 2`` (3.17.2) on ``database_url`` (SQLAlchemy's spelling)."""
    if database_url.startswith("mysql://"):
        database_url = "mysql+pymysql://" + database_url[len("mysql://") :]
    elif database_url.startswith("postgresql://"):  # SQLAlchemy 2.1's default driver is psycopg 3
        database_url = "postgresql+psycopg2://" + database_url[len("postgresql://") :]
    port = free_port()
    python = str(mlflow_python(MLFLOW_SERVER))
    args = [python, "-m", "mlflow", "server", "--backend-store-uri", database_url,
            "--artifacts-destination", str(tmp / "ml-art"),
            "--host", "127.0.0.1", "--port", str(port), "--workers", "2",
            # uvicorn kills a worker that misses a 5 s health check: on a loaded machine that
            # is a dead server, not a slower one.
            "--uvicorn-opts", "--timeout-worker-healthcheck 120"]  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    with process(args, f"{base}/health", tmp / "mlflow.log", MLFLOW_SERVER_QUIET, timeout=600):
        yield base


def _table(columns: list[str], rows: dict[str, list[str]]) -> str:
    lines = ["| figure | " + " | ".join(columns) + " |", "|---" * (len(columns) + 1) + "|"]
    lines += [f"| {name} | " + " | ".join(values) + " |" for name, values in rows.items()]
    return "\n".join(lines)


def compare(args: argparse.Namespace, report: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    """Both servers, ``args.repeat`` times on fresh databases; every figure of every run.

    ``report`` gets the figures so far after each server's run (so a cut-short run keeps them).
    """
    runs: dict[str, Any] = {
        "modelyard": [],
        "mlflow": [],
        "ceiling": [],
        "load": [os.getloadavg()],
    }
    for turn in range(args.repeat):
        with tempfile.TemporaryDirectory() as tmp_name:
            tmp = Path(tmp_name)
            if args.ceiling:
                with fresh_database(args.database_url, tmp, "ceiling") as url:
                    runs["ceiling"].append(insert_ceiling.ceiling(url, LOG_BATCH_CALLS))
                logger.info("run %d the database alone: %s", turn + 1, runs["ceiling"][-1])
            order = ("modelyard", "mlflow") if turn % 2 == 0 else ("mlflow", "modelyard")
            for who in order:
                with fresh_database(args.database_url, tmp, who) as url:
                    server = modelyard_server if who == "modelyard" else mlflow_server
                    analyze = None if url.startswith("sqlite") else partial(analyze_database, url)
                    with server(tmp, url) as base:
                        figures = measure(base, args.runs, args.threads, args.calls, analyze)
                runs[who].append(figures)
                runs["load"].append(os.getloadavg())
                logger.info("run %d %s: %s", turn + 1, who, figures)
                report(runs)
    return runs


def _median(runs: list[dict[str, float]]) -> dict[str, float]:
    return {name: statistics.median(run[name] for run in runs) for name in runs[0]}


def _record(
    args: argparse.Namespace, argv: list[str] | None, started: float, runs: dict[str, Any]
) -> dict[str, Any]:
    done = min(len(runs["modelyard"]), len(runs["mlflow"]))
    ours = _median(runs["modelyard"][:done]) if done else {}
    theirs = _median(runs["mlflow"][:done]) if done else {}
    return {
        "command": "python -m benchmarks.tracking " + " ".join(argv or sys.argv[1:]),
        **machine(),
        "engine": urlsplit(args.database_url).scheme if args.database_url else "sqlite",
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "seconds": round(time.time() - started, 1),
        "load_average_1_5_15": runs["load"],
        "complete_comparisons": done,
        "median": {
            name: {
                "modelyard": ours[name],
                "mlflow": theirs[name],
                "ours_over_mlflow": ours[name] / theirs[name],
            }
            for name in ours
        },
        "runs": {"modelyard": runs["modelyard"], "mlflow": runs["mlflow"]},
        **_ceiling_record(runs["ceiling"], ours),
    }


_ONE_CLIENT_BATCH = "log-batch metrics/s (1000 per call), 1 client"


def _ceiling_record(ceilings: list[dict[str, float]], ours: dict[str, float]) -> dict[str, Any]:
    """The database-alone figures and, for each, our one-client log-batch as a share of it."""
    if not ceilings:
        return {}
    medians = _median(ceilings)
    ours_rate = ours.get(_ONE_CLIENT_BATCH)
    shares = {name: ours_rate / rate for name, rate in medians.items()} if ours_rate else {}
    return {
        "ceiling": {
            "median": medians,
            "log-batch 1 client over the ceiling": shares,
            "runs": ceilings,
        }
    }


def main(argv: list[str] | None = None) -> int:
    """Run the workload and print a markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="base URL of a running server")
    parser.add_argument("--compare-mlflow", action="store_true")
    parser.add_argument("--runs", type=int, default=10000)
    parser.add_argument("--threads", type=int, default=4, help="clients while populating")
    parser.add_argument("--calls", type=int, default=400, help="log-metric calls per client")
    parser.add_argument(
        "--database-url",
        help="a PostgreSQL or MySQL server (postgresql://root@127.0.0.1:5432/test): each server"
        " gets a fresh database created there and dropped afterwards (default: SQLite files)",
    )
    parser.add_argument("--repeat", type=int, default=1, help="comparisons to take the median of")
    parser.add_argument("--json", type=Path, help="also write the figures of every run here")
    parser.add_argument(
        "--ceiling",
        action="store_true",
        help="also measure, each turn, the database alone taking the same 1,000-point batches"
        " (benchmarks.insert_ceiling), and report our log-batch as a share of it",
    )
    args = parser.parse_args(argv)
    if args.ceiling and args.database_url and not args.database_url.startswith("postgres"):
        parser.error("--ceiling measures SQLite files and PostgreSQL, not MySQL")
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.compare_mlflow:
        started = time.time()

        def report(runs: dict[str, Any]) -> None:
            if args.json:
                args.json.write_text(
                    json.dumps(_record(args, argv, started, runs), indent=2) + "\n"
                )

        runs = compare(args, report)
        ours, theirs = _median(runs["modelyard"]), _median(runs["mlflow"])
        rows = {}
        for (name, value), other in zip(ours.items(), theirs.values(), strict=True):
            rows[name] = [f"{value:.1f}", f"{other:.1f}", f"{value / other:.2f}x"]
        sys.stdout.write(_table(["modelyard", "mlflow 3.17.2", "ours/mlflow"], rows) + "\n")
        if runs["ceiling"]:
            rows = {
                name: [f"{rate:.1f}", f"{ours[_ONE_CLIENT_BATCH] / rate:.2f}"]
                for name, rate in _median(runs["ceiling"]).items()
            }
            columns = ["the database alone", "ours (log-batch, 1 client) / it"]
            sys.stdout.write(_table(columns, rows) + "\n")
        return 0
    if not args.url:
        parser.error("give --url or --compare-mlflow")
    figures = measure(args.url.rstrip("/"), args.runs, args.threads, args.calls)
    sys.stdout.write(_table([args.url], {k: [f"{v:.1f}"] for k, v in figures.items()}) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
