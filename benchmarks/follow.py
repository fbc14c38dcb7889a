"""How fast ``modelyard serve`` follows a promotion: push (the event stream) against polling.

Run on demand (not in CI)::

    python -m benchmarks.follow                  # 3 runs of 20 promotions, push and poll
    python -m benchmarks.follow --runs 1 --promotions 5 --modes push

One ``modelyard server`` (SQLite, 2 workers) and one ``modelyard serve models:/follow/Production``
(2 workers, ``SERVING_FOLLOW=push`` or ``poll`` with the default 2 s poll interval) on
127.0.0.1. While 4 threads post predictions on keep-alive connections, version after version is
promoted to Production. For each promotion: the time from sending the transition request (an
upper bound of its commit) to the first answer by the new version, and to the moment every
answer comes from it. Failed requests are every answer other than a 200, and every error.
Raw answers go to ``benchmarks/results/follow_<mode>_run<N>.json`` with the commit and machine.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
from sklearn.linear_model import LinearRegression

from benchmarks.run_info import machine
from tests.conftest import free_port
from tests.servers import process, registry_server

RESULTS = Path(__file__).resolve().parent / "results"
NAME = "follow"
X = pd.DataFrame(np.arange(12.0).reshape(4, 3), columns=["a", "b", "c"])
BODY = {"dataframe_split": X.head(1).to_dict(orient="split", index=False)}


class Load:
    """Threads posting predictions, recording ``(time, status, version)`` of every answer."""

    def __init__(self, url: str, threads: int = 4) -> None:
        self.url = url
        self.answers: list[tuple[float, int, str]] = []
        self.errors: list[str] = []
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._run, daemon=True) for _ in range(threads)]

    def _run(self) -> None:
        with httpx.Client(base_url=self.url, timeout=10) as client:
            while not self.stop.is_set():
                try:
                    response = client.post("/invocations", json=BODY)
                except httpx.HTTPError as err:
                    self.errors.append(f"{type(err).__name__}: {err}")
                    continue
                version = response.headers.get("X-Model-Version", "")
                self.answers.append((time.monotonic(), response.status_code, version))

    def __enter__(self) -> Load:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=15)

    def first_and_settled(
        self, version: str, since: float, timeout: float = 30.0
    ) -> tuple[float, float]:
        """Seconds from ``since`` to the first answer by ``version``, and to 20 in a row."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            after = [a for a in self.answers if a[0] >= since]
            mine = [t for t, _, v in after if v == version]
            if len(after) >= 20 and all(v == version for _, _, v in after[-20:]):
                others = [t for t, _, v in after if v != version]
                return mine[0] - since, max(others, default=mine[0]) - since
            time.sleep(0.01)
        raise RuntimeError(f"version {version} did not take over within {timeout}s")


def run_once(mode: str, promotions: int, workdir: Path) -> dict[str, Any]:
    """One registry, one serve process in ``mode``, ``promotions`` promotions under load."""
    import registry as mlflow
    import registry.sklearn
    from registry.client import Client
    from registry.client.tracking_uri import reset_tracking_uri

    with registry_server(workdir, workers=2) as base:
        mlflow.set_tracking_uri(base)
        client = Client(base)
        with mlflow.start_run():
            info = registry.sklearn.log_model(LinearRegression().fit(X, X.a), name="model")
        for _ in range(promotions + 1):
            mlflow.register_model(info.model_uri, NAME)
        client.transition_model_version_stage(NAME, "1", "Production")
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        args = [sys.executable, "-m", "registry.cli", "serve", f"models:/{NAME}/Production"]
        args += ["--tracking-uri", base, "--port", str(port), "--workers", "2"]
        env = {"SERVING_FOLLOW": mode, "SERVING_POLL_INTERVAL": "2"}
        cells = []
        with (
            process(args, f"{url}/ping", workdir / f"serve-{mode}.log", env=env),
            Load(url) as load,
        ):
            load.first_and_settled("1", time.monotonic() - 60)
            for number in range(2, promotions + 2):
                time.sleep(0.3)
                sent = time.monotonic()
                client.transition_model_version_stage(NAME, str(number), "Production", True)
                committed = time.monotonic() - sent
                first, settled = load.first_and_settled(str(number), sent)
                cells.append(
                    {"version": number, "request_s": committed, "first_s": first, "all_s": settled}
                )
        reset_tracking_uri()
    failed = [a for a in load.answers if a[1] != 200]
    return {
        "mode": mode,
        "promotions": cells,
        "answers": len(load.answers),
        "failed": len(failed) + len(load.errors),
        "errors": load.errors[:20],
        "median_first_s": statistics.median(c["first_s"] for c in cells),
        "max_first_s": max(c["first_s"] for c in cells),
        "median_all_s": statistics.median(c["all_s"] for c in cells),
        "max_all_s": max(c["all_s"] for c in cells),
    }


def main() -> None:
    """Run the benchmark and print a markdown table (medians over runs)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--promotions", type=int, default=20)
    parser.add_argument("--modes", default="push,poll")
    args = parser.parse_args()
    RESULTS.mkdir(exist_ok=True)
    summary: dict[str, list[dict[str, Any]]] = {}
    for run in range(1, args.runs + 1):
        for mode in args.modes.split(","):
            with tempfile.TemporaryDirectory(prefix="follow-bench-") as tmp:
                result = run_once(mode, args.promotions, Path(tmp))
            result.update(machine(), run=run)
            path = RESULTS / f"follow_{mode}_run{run}.json"
            path.write_text(json.dumps(result, indent=2) + "\n")
            summary.setdefault(mode, []).append(result)
            print(
                f"run {run} {mode}: first median {result['median_first_s']:.3f}s"
                f" max {result['max_first_s']:.3f}s, failed {result['failed']}",
                flush=True,
            )
    print(
        "\n| follow | first answer median | first answer max | all workers median |"
        " all workers max | failed requests | answers |"
    )
    print("|---|---|---|---|---|---|---|")
    for mode, results in summary.items():

        def med(key: str, results: list[dict[str, Any]] = results) -> float:
            return statistics.median(r[key] for r in results)

        print(
            f"| {mode} | {med('median_first_s'):.3f} s | {med('max_first_s'):.3f} s"
            f" | {med('median_all_s'):.3f} s | {med('max_all_s'):.3f} s"
            f" | {sum(r['failed'] for r in results)} | {sum(r['answers'] for r in results)} |"
        )


if __name__ == "__main__":
    main()
