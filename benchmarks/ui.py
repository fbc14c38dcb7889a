"""On-demand benchmark of the web UI's runs table at scale.

    python -m benchmarks.ui --runs 100000 --requests 30

Populates one experiment with N runs (3 params, 3 metrics, 2 tags each, every 10th run a child
of another; the first 100 runs also get 100-step histories of their 3 metrics) directly through
the models with bulk inserts into a fresh SQLite file; a second experiment holds the chart
grid's sweep (500 runs x 1,000 steps x 3 metrics). Then it times whole requests through the
Flask test client (search, column values, template): the runs table's first page (target: p50
under 300 ms), other table views, the experiments list, a compare page of 100 runs and the
chart grid of 500 runs (target: under 1 s; the page, one chart's JSON, and the page with all
three charts' JSON fetched one after another), and prints p50/p95 for each. ``--browser`` also
times the chart grid drawn in headless Chromium (navigation to every chart in view drawn).
``--grid-only`` times only the chart grid's cases; ``--database FILE`` keeps the populated SQLite
file and reuses it on the next run (populating 500 x 1,000 x 3 points takes minutes).
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import quote

from werkzeug.serving import make_server

from registry.config import Config
from registry.server.app import create_app
from registry.store import db
from registry.store.models import Experiment, LatestMetric, Metric, Param, Run, RunTag

CHUNK = 2000
CASES = {
    "first page (default sort, 50 rows)": "",
    "first page, 200 rows": "?per=200",
    "sorted by a metric": "?sort=metrics.rmse&dir=asc",
    "sorted by a metric, descending, page 10": "?sort=metrics.mae&dir=desc&page=10",
    "sorted by a metric, filtered on a param": "?sort=metrics.rmse&dir=asc&filter="
    + quote("params.model = 'ridge'"),
    "filtered": "?filter=" + quote("metrics.rmse < 5 and params.model = 'ridge'"),
    "page 100": "?page=100",
    "experiments list": None,
    "experiments search": "SEARCH",
    "compare 100 runs (100 steps x 3 metrics)": "COMPARE",
    "chart grid page, 500 runs (runs and keys only)": "GRID",
    "chart grid, one chart's JSON (500 lines, 120 pts)": "GRID_DATA",
    "chart grid, page + its 3 charts' JSON in turn": "GRID_ALL",
}
COMPARED = 100
STEPS = 100
GRID_RUNS = 500
GRID_STEPS = 1000
GRID_KEYS = ("accuracy", "loss", "val_loss")


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
                    {
                        "run": run_id,
                        "experiment_id": exp_id,
                        "key": key,
                        "value": rng.uniform(0, 20),
                        "timestamp": 0,
                    }
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


def populate_grid(seed: int = 11) -> int:
    """An experiment of GRID_RUNS runs with GRID_STEPS-step histories of 3 metrics."""
    rng = random.Random(seed)
    experiment = Experiment.create(
        name="grid", artifact_location="mlflow-artifacts:/2", creation_time=0, last_update_time=0
    )
    exp_id = experiment.experiment_id
    ids = [f"g{i:031x}" for i in range(GRID_RUNS)]
    with db.atomic():
        Run.insert_many(
            [
                {
                    "run_uuid": run_id,
                    "experiment": exp_id,
                    "name": f"trial-{n}",
                    "user_id": "bench",
                    "start_time": 1_700_000_000_000 + n,
                    "artifact_uri": f"mlflow-artifacts:/{exp_id}/{run_id}/artifacts",
                    "status": "FINISHED",
                }
                for n, run_id in enumerate(ids)
            ]
        ).execute()
        LatestMetric.insert_many(
            [
                {
                    "run": run_id,
                    "experiment_id": exp_id,
                    "key": key,
                    "value": 1.0,
                    "timestamp": 0,
                    "step": GRID_STEPS - 1,
                }
                for run_id in ids
                for key in ("loss", "val_loss", "accuracy")
            ]
        ).execute()
        for run_id in ids:
            rate = rng.uniform(0.5, 3)
            Metric.insert_many(
                [
                    {
                        "run": run_id,
                        "key": key,
                        "value": scale / (1 + rate * step / 100) + rng.gauss(0, 0.02),
                        "step": step,
                        "timestamp": 1_700_000_000_000 + step * 1000,
                    }
                    for key, scale in (("loss", 2.0), ("val_loss", 2.2), ("accuracy", -1.0))
                    for step in range(GRID_STEPS)
                ]
            ).execute()
    return int(exp_id)


def time_browser(base: str, path: str, repeats: int) -> list[tuple[float, float]]:
    """Milliseconds from navigation to every chart of the page drawn, in headless Chromium.

    Each load gives two figures: the page's own (the time it marked ``data-drawn``, from the
    start of navigation) and the wall time until Playwright saw the mark (which adds its polling).
    """
    from playwright.sync_api import sync_playwright

    timings = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"]
        )
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.goto(base + path)  # warm: plotly.js parsed and cached once
        for _ in range(repeats):
            started = time.perf_counter()
            page.goto(base + path)
            page.wait_for_selector("#grid-charts[data-drawn]", timeout=120_000)
            wall = (time.perf_counter() - started) * 1000
            own = page.evaluate(
                "Number(document.getElementById('grid-charts').dataset.drawn)"
                " - performance.timeOrigin"
            )
            timings.append((float(own), wall))
        browser.close()
    return timings


def time_requests(client: object, urls: list[str], requests: int) -> list[float]:
    """Milliseconds for each of ``requests`` rounds of GETting every one of ``urls`` in turn."""
    timings = []
    for _ in range(requests):
        started = time.perf_counter()
        for url in urls:
            response = client.get(url)  # type: ignore[attr-defined]
            assert response.status_code == 200, response.status_code
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--browser", action="store_true", help="also time the grid in Chromium")
    parser.add_argument("--grid-only", action="store_true", help="only the chart grid's cases")
    parser.add_argument(
        "--database", help="a SQLite file to keep: populated when new, reused when it exists"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(args.database) if args.database else Path(tmp) / "bench.db"
        reuse = path.exists()
        config = Config(
            database_url=f"sqlite:///{path}",
            artifact_root=str(Path(tmp) / "artifacts"),
            auto_migrate=True,
        )
        app = create_app(config)
        started = time.perf_counter()
        with db.connection_context():
            if reuse:
                exp_id = Experiment.get(Experiment.name == "bench").experiment_id
                grid_id = Experiment.get(Experiment.name == "grid").experiment_id
            else:
                exp_id = populate(args.runs)
                grid_id = populate_grid()
                db.execute_sql("ANALYZE")
        print(
            f"populated {args.runs} runs in {time.perf_counter() - started:.1f}s (reused: {reuse})"
        )
        client = app.test_client()
        for name, query in CASES.items():
            if args.grid_only and not (query and query.startswith("GRID")):
                continue
            url = "/" if query is None else f"/experiments/{exp_id}{query}"
            if query == "SEARCH":
                url = "/?q=bench"
            if query == "COMPARE":
                url = "/compare?" + "&".join(f"runs={i:032x}" for i in range(COMPARED))
            urls = [url]
            if query and query.startswith("GRID"):
                page = f"/experiments/{grid_id}/charts"
                # 120 points a line: what the page asks for at 500 runs (60,000 points a chart).
                charts = [f"{page}/data?key={key}&points=120" for key in GRID_KEYS]
                urls = {"GRID": [page], "GRID_DATA": charts[:1], "GRID_ALL": [page, *charts]}[query]
                url = urls[-1]
            client.get(url)
            timings = time_requests(client, urls, args.requests)
            p50 = statistics.median(timings)
            p95 = statistics.quantiles(timings, n=20)[-1]
            print(f"{name:42s} p50 {p50:7.1f} ms   p95 {p95:7.1f} ms   ({url[:70]})")
        if args.browser:
            server = make_server("127.0.0.1", 0, app, threaded=True)
            threading.Thread(target=server.serve_forever, daemon=True).start()
            base = f"http://127.0.0.1:{server.server_port}"
            loads = time_browser(base, f"/experiments/{grid_id}/charts", max(3, args.requests // 5))
            for label, drawn in (
                ("chart grid drawn in Chromium (page's own)", [own for own, _ in loads]),
                ("chart grid drawn, wall (Playwright saw it)", [wall for _, wall in loads]),
            ):
                each = ", ".join(f"{d:.0f}" for d in drawn)
                print(
                    f"{label:42s} p50 {statistics.median(drawn):7.1f} ms"
                    f"   max {max(drawn):7.1f} ms   ({len(drawn)} loads: {each} ms)"
                )
            server.shutdown()


if __name__ == "__main__":
    main()
