"""Tracking throughput and latency against any server that speaks MLflow's REST protocol.

    python -m benchmarks.tracking --url http://127.0.0.1:5000 --runs 2000
    python -m benchmarks.tracking --compare-mlflow --runs 10000

With ``--compare-mlflow`` it starts ``mlflow server`` (3.17.2) and ``modelyard server``, both
with 2 workers on fresh SQLite files on free loopback ports, runs the same workload against
each and prints a markdown table with the ratio ours/mlflow (higher is better for rates, lower
for times). Every loop is bounded; both servers are stopped at the end.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.conftest import free_port
from tests.mlflow_env import MLFLOW_SERVER, mlflow_python
from tests.servers import process

logger = logging.getLogger("benchmarks.tracking")
API = "/api/2.0/mlflow"
SEARCH_FILTER = "metrics.m0 > 0.25 and params.p0 = 'v1'"
SEARCH_ORDER = ["metrics.m1 DESC"]


class Workload:
    """The measured calls, against one base URL."""

    def __init__(self, base: str, runs: int, threads: int) -> None:
        self.base = base
        self.runs = runs
        self.threads = threads
        self._local = threading.local()

    def _http(self) -> httpx.Client:
        client = getattr(self._local, "client", None)
        if client is None:
            client = httpx.Client(base_url=self.base, timeout=120)
            self._local.client = client
        return client

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = self._http().post(API + path, json=body)
        response.raise_for_status()
        result: dict[str, Any] = response.json() if response.content else {}
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

    def log_batch_rate(self, batches: int) -> float:
        run_id = self.new_run(self.new_experiment("log-batch"))
        started = time.perf_counter()
        for b in range(batches):
            metrics = [
                {"key": f"k{i % 10}", "value": i * 0.5, "timestamp": b, "step": b * 100 + i // 10}
                for i in range(1000)
            ]
            self.post("/runs/log-batch", {"run_id": run_id, "metrics": metrics})
        return batches * 1000 / (time.perf_counter() - started)

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


def measure(base: str, runs: int, threads: int, calls: int) -> dict[str, float]:
    """Every figure of the workload for the server at ``base``."""
    workload = Workload(base, runs, threads)
    figures: dict[str, float] = {}
    figures["log-metric req/s, 1 client"] = workload.log_metric_rate(1, calls)
    figures["log-metric req/s, 8 clients"] = workload.log_metric_rate(8, calls // 2)
    figures["log-batch metrics/s (1000 per call)"] = workload.log_batch_rate(20)
    experiment_id, rate = workload.populate()
    figures[f"runs/s populating {runs} runs"] = rate
    p50, p99 = workload.search_latency(experiment_id, 50)
    figures["search p50 ms"] = p50
    figures["search p99 ms"] = p99
    seconds, seen = workload.page_all(experiment_id)
    figures[f"s to page through all {seen} runs (1000/page)"] = seconds
    return figures


@contextmanager
def modelyard_server(tmp: Path) -> Iterator[str]:
    """``modelyard server --workers 2`` on a fresh SQLite file."""
    port = free_port()
    args = [sys.executable, "-m", "registry.cli", "server", "--backend-store-uri",
            f"sqlite:///{tmp / 'modelyard.db'}", "--artifacts-destination", str(tmp / "my-art"),
            "--host", "127.0.0.1", "--port", str(port), "--workers", "2"]  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    with process(args, f"{base}/health", tmp / "modelyard.log"):
        yield base


@contextmanager
def mlflow_server(tmp: Path) -> Iterator[str]:
    """``mlflow server --workers 2`` (3.17.2) on a fresh SQLite file."""
    port = free_port()
    python = str(mlflow_python(MLFLOW_SERVER))
    args = [python, "-m", "mlflow", "server", "--backend-store-uri",
            f"sqlite:///{tmp / 'mlflow.db'}", "--artifacts-destination", str(tmp / "ml-art"),
            "--host", "127.0.0.1", "--port", str(port), "--workers", "2"]  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    with process(args, f"{base}/health", tmp / "mlflow.log", timeout=180):
        yield base


def _table(columns: list[str], rows: dict[str, list[str]]) -> str:
    lines = ["| figure | " + " | ".join(columns) + " |", "|---" * (len(columns) + 1) + "|"]
    lines += [f"| {name} | " + " | ".join(values) + " |" for name, values in rows.items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the workload and print a markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="base URL of a running server")
    parser.add_argument("--compare-mlflow", action="store_true")
    parser.add_argument("--runs", type=int, default=10000)
    parser.add_argument("--threads", type=int, default=4, help="clients while populating")
    parser.add_argument("--calls", type=int, default=400, help="log-metric calls per client")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    if args.compare_mlflow:
        with tempfile.TemporaryDirectory() as tmp:
            with modelyard_server(Path(tmp)) as base:
                ours = measure(base, args.runs, args.threads, args.calls)
            logger.info("modelyard done: %s", ours)
            with mlflow_server(Path(tmp)) as base:
                theirs = measure(base, args.runs, args.threads, args.calls)
            logger.info("mlflow done: %s", theirs)
        rows = {}
        for (name, value), other in zip(ours.items(), theirs.values(), strict=True):
            rows[name] = [f"{value:.1f}", f"{other:.1f}", f"{value / other:.2f}x"]
        sys.stdout.write(_table(["modelyard", "mlflow 3.17.2", "ours/mlflow"], rows) + "\n")
        return 0
    if not args.url:
        parser.error("give --url or --compare-mlflow")
    figures = measure(args.url.rstrip("/"), args.runs, args.threads, args.calls)
    sys.stdout.write(_table([args.url], {k: [f"{v:.1f}"] for k, v in figures.items()}) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
