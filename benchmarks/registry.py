"""Model-registry benchmark: Modelyard vs ``mlflow server`` (on demand, not in CI).

    python -m benchmarks.registry [--ops 200] [--reads 300] [--versions 10000]

Starts ``mlflow server --workers 2`` (MLflow 3.17.2 from ``tests.mlflow_env``) and
``modelyard server --workers 2``, each on a fresh SQLite file on loopback, and measures over
keep-alive HTTP:

* create-version + transition-stage pairs per second (one client, sequential);
* p50 of ``get-latest-versions`` (POST, stages=[Production]) and of alias resolution
  (``GET registered-models/alias``);
* p50 of ``model-versions/search`` at N versions: the official client's call
  (``filter=name='...'``, ``max_results=10000``) and a narrow one (``version_number > N-10``).

The N versions are written by copying one registered version row in SQL with a recursive CTE
(the same way for both servers), so filling the table takes a second instead of N requests.
Prints a markdown table with the ratio (Modelyard / MLflow for throughput, MLflow / Modelyard for
latency: higher is better for Modelyard).
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.conftest import free_port
from tests.mlflow_env import MLFLOW_SERVER, mlflow_python
from tests.servers import process, registry_server

API = "/api/2.0/mlflow"
SEARCH_MODEL = "bench-search"


@contextmanager
def mlflow_server(workdir: Path) -> Iterator[str]:
    python = mlflow_python(MLFLOW_SERVER)
    port = free_port()
    args = [
        str(python),
        "-m",
        "mlflow",
        "server",
        "--backend-store-uri",
        f"sqlite:///{workdir / 'mlflow.db'}",
        "--artifacts-destination",
        str(workdir / "mlartifacts"),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "2",
    ]
    base = f"http://127.0.0.1:{port}"
    with process(args, f"{base}/health", workdir / "mlflow.log", timeout=180):
        yield base


def ok(response: httpx.Response) -> dict[str, object]:
    if response.status_code != 200:
        raise RuntimeError(f"{response.request.url}: {response.status_code} {response.text[:300]}")
    body: dict[str, object] = response.json() if response.content else {}
    return body


def timed(fn: Callable[[], object], repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return samples


def write_throughput(client: httpx.Client, ops: int) -> float:
    ok(client.post(f"{API}/registered-models/create", json={"name": "bench-write"}))
    start = time.perf_counter()
    for _ in range(ops):
        created = ok(
            client.post(
                f"{API}/model-versions/create",
                json={
                    "name": "bench-write",
                    "source": "runs:/0123456789abcdef/model",
                    "run_id": "0123456789abcdef",
                },
            )
        )
        version = created["model_version"]["version"]  # type: ignore[index]
        ok(
            client.post(
                f"{API}/model-versions/transition-stage",
                json={
                    "name": "bench-write",
                    "version": version,
                    "stage": "Production",
                    "archive_existing_versions": True,
                },
            )
        )
    return ops / (time.perf_counter() - start)


def read_latencies(client: httpx.Client, reads: int) -> tuple[float, float]:
    ok(
        client.post(
            f"{API}/registered-models/alias",
            json={"name": "bench-write", "alias": "champion", "version": "1"},
        )
    )
    latest = timed(
        lambda: ok(
            client.post(
                f"{API}/registered-models/get-latest-versions",
                json={"name": "bench-write", "stages": ["Production"]},
            )
        ),
        reads,
    )
    alias = timed(
        lambda: ok(
            client.get(
                f"{API}/registered-models/alias",
                params={"name": "bench-write", "alias": "champion"},
            )
        ),
        reads,
    )
    return statistics.median(latest), statistics.median(alias)


def fill_versions(client: httpx.Client, database: Path, count: int) -> None:
    """One version through the API, then ``count - 1`` copies of its row in SQL."""
    ok(client.post(f"{API}/registered-models/create", json={"name": SEARCH_MODEL}))
    ok(
        client.post(
            f"{API}/model-versions/create",
            json={
                "name": SEARCH_MODEL,
                "source": "runs:/0123456789abcdef/model",
                "run_id": "0123456789abcdef",
            },
        )
    )
    conn = sqlite3.connect(database, timeout=60)
    columns = [row[1] for row in conn.execute("PRAGMA table_info(model_versions)")]
    copied = [c for c in columns if c != "id"]
    select = ", ".join("n" if c == "version" else c for c in copied)
    name_column = "registered_model_id" if "registered_model_id" in columns else "name"
    key = (
        "(SELECT id FROM registered_models WHERE name = ?)"
        if name_column == "registered_model_id"
        else "?"
    )
    sql = (
        f"WITH RECURSIVE seq(n) AS (SELECT 2 UNION ALL SELECT n + 1 FROM seq WHERE n < ?) "
        f"INSERT INTO model_versions ({', '.join(copied)}) "
        f"SELECT {select} FROM model_versions, seq WHERE {name_column} = {key} AND version = 1"
    )
    with conn:
        conn.execute(sql, (count, SEARCH_MODEL))
    conn.close()


def search_latencies(client: httpx.Client, count: int, repeat: int) -> tuple[float, float]:
    full = timed(
        lambda: ok(
            client.get(
                f"{API}/model-versions/search",
                params={"filter": f"name='{SEARCH_MODEL}'", "max_results": 10000},
            )
        ),
        repeat,
    )
    narrow_filter = f"name='{SEARCH_MODEL}' AND version_number > {count - 10}"
    narrow = timed(
        lambda: ok(
            client.get(
                f"{API}/model-versions/search",
                params={"filter": narrow_filter, "max_results": 100},
            )
        ),
        repeat * 3,
    )
    return statistics.median(full), statistics.median(narrow)


def measure(base: str, database: Path, args: argparse.Namespace) -> dict[str, float]:
    with httpx.Client(base_url=base, timeout=120) as client:
        writes = write_throughput(client, args.ops)
        latest, alias = read_latencies(client, args.reads)
        fill_versions(client, database, args.versions)
        full, narrow = search_latencies(client, args.versions, args.search_repeat)
    return {
        "writes": writes,
        "latest": latest,
        "alias": alias,
        "search_full": full,
        "search_narrow": narrow,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ops", type=int, default=200)
    parser.add_argument("--reads", type=int, default=300)
    parser.add_argument("--versions", type=int, default=10000)
    parser.add_argument("--search-repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "mlflow").mkdir()
        (work / "modelyard").mkdir()
        with mlflow_server(work / "mlflow") as base:
            theirs = measure(base, work / "mlflow" / "mlflow.db", args)
        with registry_server(work / "modelyard", workers=2) as base:
            ours = measure(base, work / "modelyard" / "server.db", args)
    rows = [
        ("create-version + transition (pairs/s)", "writes", True, "{:.0f}"),
        ("get-latest-versions p50 (ms)", "latest", False, "{:.2f}"),
        ("alias resolution p50 (ms)", "alias", False, "{:.2f}"),
        (f"search {args.versions} versions, client call p50 (ms)", "search_full", False, "{:.1f}"),
        (
            f"search {args.versions} versions, narrow filter p50 (ms)",
            "search_narrow",
            False,
            "{:.2f}",
        ),
    ]
    print("| measure | MLflow 3.17.2 | Modelyard | ratio |")
    print("|---|---|---|---|")
    for label, key, higher_is_better, fmt in rows:
        scale = 1 if higher_is_better else 1000
        ratio = ours[key] / theirs[key] if higher_is_better else theirs[key] / ours[key]
        print(
            f"| {label} | {fmt.format(theirs[key] * scale)} | {fmt.format(ours[key] * scale)} "
            f"| {ratio:.1f}x |"
        )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
