"""Benchmark ``modelyard serve`` against ``mlflow models serve`` and a bare gunicorn + Flask app.

Run on demand (not in CI)::

    python -m benchmarks.serving                       # every model, 10 s per cell
    python -m benchmarks.serving --models linear --duration 5 --servers modelyard,mlflow,bare
    python -m benchmarks.serving --models forest --servers modelyard,modelyard-batching
    python -m benchmarks.serving --models forest --servers modelyard,numpy --json out.json
    python -m benchmarks.serving --repeat 3 --servers modelyard,mlflow,bare,numpy --json out.json

``numpy`` is a plain gunicorn + Flask app calling the sklearn model's own ``predict`` on a numpy
array (no signature, no pandas); ``bare-our-worker`` is the bare app under our gunicorn worker
class, which spreads kept-alive connections evenly over the workers (stock gthread lets wrk's 8
connections split 7 to 1 as often as 4 to 4, which moves the bare ceiling by 2.5x between
rounds); ``--json`` also writes every row with the commit and the load.

For each server and model: cold start (process start to the first 200 on /ping, and the CPU
its processes used until then: the figure that a loaded machine hardly moves), resident
memory per worker (VmRSS of each worker process), then wrk (benchmarks/wrk/post.lua) for a
1-row and a 1,000-row ``dataframe_split`` body: requests per second, p50 and p99, and the
server's CPU per request (user + system time of its processes over the cell, from /proc: on a
shared machine it moves far less than req/s). Everything binds to 127.0.0.1; every cell is
bounded by ``--duration``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd

from benchmarks.run_info import machine
from registry.gunicorn_workers import WORKER_CLASS
from tests.conftest import free_port

ROOT = Path(__file__).resolve().parent.parent
LUA = Path(__file__).resolve().parent / "wrk" / "post.lua"
FEATURES = [f"f{i}" for i in range(10)]


def bare_app() -> object:
    """The ceiling: gunicorn + Flask parsing the same JSON and returning a constant."""
    import orjson
    from flask import Flask, Response, request

    app = Flask("bare")

    @app.post("/invocations")
    def invocations() -> Response:
        orjson.loads(request.get_data(cache=False))
        return Response(b'{"predictions": [0.0]}', mimetype="application/json")

    @app.get("/ping")
    def ping() -> Response:
        return Response("\n", mimetype="application/json")

    return app


def numpy_app() -> object:
    """A plain app: gunicorn + Flask, the JSON into a numpy array, the sklearn model's predict.

    The model is ``model.skops`` in the directory named by ``BENCH_MODEL_DIR``.
    """
    import warnings

    import orjson
    import skops.io
    from flask import Flask, Response, request

    warnings.filterwarnings("ignore", message="X does not have valid feature names")
    path = Path(os.environ["BENCH_MODEL_DIR"]) / "model.skops"
    model = skops.io.load(path, trusted=skops.io.get_untrusted_types(file=path))
    app = Flask("numpy")

    @app.post("/invocations")
    def invocations() -> Response:
        body = orjson.loads(request.get_data(cache=False))
        x = np.asarray(body["dataframe_split"]["data"], dtype=np.float64)
        predictions = orjson.dumps(
            {"predictions": model.predict(x)}, option=orjson.OPT_SERIALIZE_NUMPY
        )
        return Response(predictions, mimetype="application/json")

    @app.get("/ping")
    def ping() -> Response:
        return Response("\n", mimetype="application/json")

    return app


def make_models(root: Path, names: list[str]) -> dict[str, Path]:
    from sklearn.ensemble import RandomForestRegressor
    from sklearn.linear_model import LinearRegression

    rng = np.random.default_rng(0)
    x = pd.DataFrame(rng.normal(size=(2000, 10)), columns=FEATURES)
    y = x.to_numpy() @ rng.normal(size=10) + rng.normal(scale=0.1, size=2000)
    models: dict[str, Path] = {}
    for name in names:
        path = root / name
        if name == "linear":
            from registry.models import sklearn as flavor

            flavor.save_model(LinearRegression().fit(x, y), path, input_example=x.head(3))
        elif name == "forest":
            from registry.models import sklearn as flavor

            forest = RandomForestRegressor(n_estimators=100, max_depth=10, random_state=0, n_jobs=1)
            flavor.save_model(forest.fit(x, y), path, input_example=x.head(3))
        elif name == "xgboost":
            import xgboost as xgb

            from registry.models import xgboost as xflavor

            booster = xgb.train(
                {"max_depth": 6, "nthread": 1}, xgb.DMatrix(x, label=y), num_boost_round=100
            )
            xflavor.save_model(booster, path, input_example=x.head(3))
        models[name] = path
    return models


def write_bodies(root: Path) -> dict[str, Path]:
    rng = np.random.default_rng(1)
    bodies = {}
    for rows in (1, 1000):
        path = root / f"body-{rows}.json"
        data = rng.normal(size=(rows, 10)).round(6).tolist()
        path.write_text(json.dumps({"dataframe_split": {"columns": FEATURES, "data": data}}))
        bodies[str(rows)] = path
    return bodies


def command(
    server: str,
    model_dir: Path,
    port: int,
    workers: int,
    mlflow: Path | None,
    grpc_port: int = 0,
) -> list[str]:
    """The command line that starts ``server`` on ``port`` (``grpc_port`` 0: no gRPC)."""
    if server.startswith("modelyard"):
        return [
            sys.executable,
            "-m",
            "registry.cli",
            "serve",
            str(model_dir),
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--grpc-port",
            str(grpc_port),
        ]
    if server == "mlflow":
        assert mlflow is not None
        return [
            str(mlflow),
            "-m",
            "mlflow",
            "models",
            "serve",
            "-m",
            str(model_dir),
            "--env-manager",
            "local",
            "-p",
            str(port),
            "-w",
            str(workers),
        ]
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "-w",
        str(workers),
        "-k",
        WORKER_CLASS if server.endswith("-our-worker") else "gthread",
        "--threads",
        "4",
        "-b",
        f"127.0.0.1:{port}",
        f"benchmarks.serving:{'numpy' if server == 'numpy' else 'bare'}_app()",
    ]


@contextmanager
def running(
    args: list[str], port: int, log: Path, env: dict[str, str], timeout: float = 120
) -> Iterator[tuple[int, float]]:
    """Start ``args``; yield its pid and the seconds to the first 200 on ``/ping``; stop it."""
    started = time.perf_counter()
    with log.open("wb") as out:
        proc = subprocess.Popen(
            args, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT, env=env, start_new_session=True
        )
        try:
            deadline = time.monotonic() + timeout
            while True:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{args[:4]} did not start:\n{log.read_text()[-3000:]}")
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/ping", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(0.02)
            yield proc.pid, time.perf_counter() - started
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, 15)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, 9)
                proc.wait()


def _children(pid: int) -> list[int]:
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        text = (task / "children").read_text().split()
        out.extend(int(c) for c in text)
    return out


def worker_rss_mb(pid: int) -> float:
    """Mean VmRSS of the leaf processes under ``pid`` (the workers), in MiB."""
    leaves, stack = [], [pid]
    while stack:
        current = stack.pop()
        kids = _children(current)
        if kids:
            stack.extend(kids)
        elif current != pid:
            leaves.append(current)
    sizes = []
    for leaf in leaves or [pid]:
        status = Path(f"/proc/{leaf}/status").read_text()
        match = re.search(r"VmRSS:\s+(\d+) kB", status)
        if match:
            sizes.append(int(match.group(1)) / 1024)
    return sum(sizes) / len(sizes)


WARM_UP_SECONDS = 1.0
"""wrk's run before the measured ones, once every worker is up: the server's connections settle
(a worker that booted late takes its share) and no worker boots in the measured window."""


def _wait_for_workers(pid: int, workers: int, timeout: float = 120) -> None:
    """Wait until ``pid`` has at least ``workers`` processes under it with none under them.

    A server answers once its first worker does; the others may still be booting. Until
    2026-12-01 the measurement started then: wrk's connections all went to the first worker
    in about half of the rounds, and a worker that started later was left out of the CPU.
    """
    deadline = time.monotonic() + timeout
    while sum(_is_leaf(p) for p in _tree(pid)[1:]) < workers:
        if time.monotonic() > deadline:
            raise RuntimeError(f"fewer than {workers} workers under {pid} after {timeout} s")
        time.sleep(0.05)


def _is_leaf(pid: int) -> bool:
    try:
        return not _children(pid)
    except OSError:  # gone meanwhile
        return False


def _tree(pid: int) -> list[int]:
    """``pid`` and every process under it."""
    pids, stack = [], [pid]
    while stack:
        current = stack.pop()
        pids.append(current)
        with contextlib.suppress(OSError):  # gone meanwhile
            stack.extend(_children(current))
    return pids


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds the processes ``pids`` have used so far (from /proc)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime in clock ticks
    return total / os.sysconf("SC_CLK_TCK")


def _ms(text: str) -> float:
    match = re.match(r"([\d.]+)(us|ms|s|m)$", text)
    if match is None:
        raise ValueError(f"unreadable wrk latency {text!r}")
    value, unit = match.groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def wrk(
    port: int, body: Path, seconds: float, connections: int, path: str = "/invocations"
) -> dict[str, float]:
    """wrk POSTing ``body`` to ``path``: req/s, p50 and p99 (ms), non-2xx and timed-out counts."""
    env = {**os.environ, "WRK_BODY": str(body)}
    out = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{connections}",
            f"-d{int(seconds)}s",
            "--timeout",
            "60s",
            "--latency",
            "-s",
            str(LUA),
            f"http://127.0.0.1:{port}{path}",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=seconds + 60,
        check=True,
    )
    text = out.stdout
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    timeouts = re.search(r"Socket errors: .*timeout (\d+)", text)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1)),  # type: ignore[union-attr]
        "p50": _ms(re.search(r"^\s+50%\s+(\S+)", text, re.M).group(1)),  # type: ignore[union-attr]
        "p99": _ms(re.search(r"^\s+99%\s+(\S+)", text, re.M).group(1)),  # type: ignore[union-attr]
        "errors": float(non2xx.group(1)) if non2xx else 0.0,
        "timeouts": float(timeouts.group(1)) if timeouts else 0.0,
    }


def measure(
    server: str,
    model_dir: Path,
    bodies: dict[str, Path],
    args: argparse.Namespace,
    mlflow: Path | None,
    env: dict[str, str],
    tmp: Path,
) -> list[dict[str, float | str]]:
    """Start ``server`` on ``model_dir``, run wrk on each body, stop it: one record a body."""
    port = args.port or free_port()
    args_ = command(server, model_dir, port, args.workers, mlflow)
    if server == "modelyard-batching":
        env = {**env, "SERVING_BATCH_MAX_LATENCY_MS": "2"}
    if server == "numpy":
        env = {**env, "BENCH_MODEL_DIR": str(model_dir)}
    if server == "mlflow" and mlflow is not None:
        # mlflow execs `uvicorn`, which must be on PATH: the venv's bin directory.
        env = {**env, "PATH": f"{mlflow.parent}{os.pathsep}{env['PATH']}"}
    log = tmp / f"{server}-{model_dir.name}.log"
    with running(args_, port, log, env, timeout=args.start_timeout) as (pid, cold):
        # The CPU the server's processes used to get there: on a loaded machine the wall
        # clock of a start-up moves by 2x from run to run, its CPU by a few percent.
        cold_cpu = cpu_seconds(_tree(pid))
        check = httpx.post(
            f"http://127.0.0.1:{port}/invocations",
            content=bodies["1"].read_bytes(),
            headers={"Content-Type": "application/json"},
        )
        check.raise_for_status()
        _wait_for_workers(pid, args.workers)
        wrk(port, bodies["1"], WARM_UP_SECONDS, args.connections)
        cells = {}
        for rows, body in bodies.items():
            # The server's own CPU per request: unlike req/s, it hardly moves with the load
            # that other processes put on a shared machine.
            pids = _tree(pid)
            before = cpu_seconds(pids)
            cells[rows] = wrk(port, body, args.duration, args.connections)
            used = cpu_seconds(pids) - before
            done = cells[rows]["rps"] * args.duration
            cells[rows]["cpu_us"] = used / done * 1e6 if done else 0.0
        rss = worker_rss_mb(pid)
    load = os.getloadavg()[0]
    return [
        {
            "rows": n,
            **c,
            "cold_start_s": cold,
            "cold_start_cpu_s": cold_cpu,
            "rss_mib": rss,
            "load1": load,
        }
        for n, c in cells.items()
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", default="linear,forest,xgboost")
    parser.add_argument("--servers", default="modelyard,mlflow,bare")
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--port", type=int, default=0, help="port of each server (0: a free one)")
    parser.add_argument("--repeat", type=int, default=1, help="rounds (servers take turns)")
    parser.add_argument("--json", type=Path, help="also write the rows, commit and load here")
    parser.add_argument("--start-timeout", type=float, default=120, help="seconds to first /ping")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed (apt-get install wrk)")
    servers = args.servers.split(",")
    mlflow = None
    if "mlflow" in servers:
        sys.path.insert(0, str(ROOT))
        from tests.mlflow_env import MLFLOW_SERVER, mlflow_python

        mlflow = mlflow_python(MLFLOW_SERVER)
    tmp = Path(tempfile.mkdtemp(prefix="modelyard-bench-"))
    models = make_models(tmp, args.models.split(","))
    bodies = write_bodies(tmp)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    print(f"wrk -t2 -c{args.connections} -d{args.duration}s, {args.workers} workers, loopback")
    print(
        "| round | model | server | rows | req/s | p50 ms | p99 ms | non-200 | cold start s"
        " | RSS MiB | server CPU us/req |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|", flush=True)
    records: list[dict[str, float | str]] = []
    before = machine()
    for number in range(1, args.repeat + 1):
        for model_name, model_dir in models.items():
            for server in servers:
                if server.startswith("bare") and model_name != next(iter(models)):
                    continue
                if server == "numpy" and model_name == "xgboost":
                    continue
                label = "bare (ceiling)" if server == "bare" else server
                try:
                    for c in measure(server, model_dir, bodies, args, mlflow, env, tmp):
                        records.append(
                            {"round": number, "model": model_name, "server": server, **c}
                        )
                        print(
                            f"| {number} | {model_name if not server.startswith('bare') else '-'}"
                            f" | {label} |"
                            f" {c['rows']} | {c['rps']:.0f} | {c['p50']:.2f} | {c['p99']:.2f} |"
                            f" {c['errors']:.0f} | {c['cold_start_s']:.2f} | {c['rss_mib']:.0f} |"
                            f" {c['cpu_us']:.0f} |",
                            flush=True,
                        )
                except Exception as err:
                    print(f"| {number} | {model_name} | {label} | failed: {err} |", flush=True)
    medians = median_rows(records)
    print(f"\nmedian of {args.repeat} round(s)")
    print(
        "| model | server | rows | req/s | p50 ms | p99 ms | cold start s | cold start CPU s"
        " | server CPU us/req |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for row in medians:
        print(
            f"| {row['model']} | {row['server']} | {row['rows']} | {row['rps']:.0f} |"
            f" {row['p50']:.2f} | {row['p99']:.2f} | {row['cold_start_s']:.2f} |"
            f" {row['cold_start_cpu_s']:.2f} | {row['cpu_us']:.0f} |"
        )
    ratios = goal_ratios(medians)
    for name, value in ratios.items():
        print(f"{name}: {value:.3f}")
    if args.json:
        run = {
            "benchmark": "serving",
            "command": " ".join(["python", "-m", "benchmarks.serving", *sys.argv[1:]]),
            **before,
            "machine_after": machine(),
            "settings": {
                "duration_s": args.duration,
                "connections": args.connections,
                "workers": args.workers,
                "repeat": args.repeat,
            },
            "median": medians,
            "ratios": ratios,
            "rows": records,
        }
        args.json.write_text(json.dumps(run, indent=1) + "\n")
    shutil.rmtree(tmp, ignore_errors=True)


def median_rows(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each (model, server, rows) cell's median over the rounds (req/s, p50, p99, cold start)."""
    cells: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for record in records:
        cells.setdefault((record["model"], record["server"], record["rows"]), []).append(record)
    return [
        {
            "model": model,
            "server": server,
            "rows": rows,
            "rounds": len(found),
            **{
                name: statistics.median(float(r[name]) for r in found)
                for name in ("rps", "p50", "p99", "cold_start_s", "cold_start_cpu_s", "cpu_us")
            },
        }
        for (model, server, rows), found in cells.items()
    ]


def goal_ratios(medians: list[dict[str, Any]]) -> dict[str, float]:
    """Issue 16's serving goals as ratios of the medians (1 row unless named)."""
    cell = {(m["model"], m["server"], m["rows"]): m for m in medians}
    bare = next((m for m in medians if m["server"] == "bare" and m["rows"] == "1"), None)
    balanced = next(
        (m for m in medians if m["server"] == "bare-our-worker" and m["rows"] == "1"), None
    )
    ratios: dict[str, float] = {}
    for model in sorted({m["model"] for m in medians}):
        ours = cell.get((model, "modelyard", "1"))
        if ours is None:
            continue
        if balanced is not None:
            ratios[f"{model}: modelyard req/s over the bare app under our worker class"] = (
                ours["rps"] / balanced["rps"]
            )
        if bare is not None:
            ratios[f"{model}: modelyard req/s over the bare ceiling"] = ours["rps"] / bare["rps"]
            if ours["cpu_us"]:
                ratios[f"{model}: bare's server CPU per request over modelyard's"] = (
                    bare["cpu_us"] / ours["cpu_us"]
                )
            ratios[f"{model}: cold start, modelyard over bare"] = (
                ours["cold_start_s"] / bare["cold_start_s"]
            )
            ratios[f"{model}: cold start CPU, modelyard over bare"] = (
                ours["cold_start_cpu_s"] / bare["cold_start_cpu_s"]
            )
        mlflow = cell.get((model, "mlflow", "1"))
        if mlflow is not None:
            ratios[f"{model}: cold start, modelyard over mlflow"] = (
                ours["cold_start_s"] / mlflow["cold_start_s"]
            )
            ratios[f"{model}: req/s, modelyard over mlflow"] = ours["rps"] / mlflow["rps"]
        numpy = cell.get((model, "numpy", "1"))
        if numpy is not None:
            ratios[f"{model}: req/s, modelyard over the plain numpy app"] = (
                ours["rps"] / numpy["rps"]
            )
            batching = cell.get((model, "modelyard-batching", "1"))
            if batching is not None:
                ratios[f"{model}: req/s, modelyard batching over the plain numpy app"] = (
                    batching["rps"] / numpy["rps"]
                )
    return ratios


if __name__ == "__main__":
    main()
