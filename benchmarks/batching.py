"""Adaptive batching on and off: ``modelyard serve`` against MLServer 1.x on the same MLflow model.

Run on demand (not in CI)::

    python -m benchmarks.batching                                   # everything, 3 repeats
    python -m benchmarks.batching --models forest --clients 8 --repeats 1 --duration 3
    python -m benchmarks.batching --servers modelyard --out benchmarks/results/batching_run1.json

For each model (a 100-tree RandomForest, a 100-round XGBoost booster, both saved as MLflow
models by ``benchmarks.serving.make_models``), every server (``modelyard serve`` and MLServer with
its MLflow runtime, each with batching off and on, 2 workers each) is started at once, and the
servers take turns, cell by cell in a rotating order: 1-row requests from 8 and 32 concurrent
clients over

* ``wrk-invocations`` / ``wrk-v2``: wrk POSTing an MLflow ``dataframe_split`` body to
  ``/invocations`` or an Open Inference Protocol body to ``/v2/models/{name}/infer``;
* ``py-invocations`` / ``py-v2``: the same bodies from this script's Python load generator
  (one thread and one keep-alive connection per client);
* ``py-grpc``: OIP ``ModelInfer`` through ``tritonclient.grpc`` from the same generator (one
  client per thread), when the server answers it.

Batching is the same on both sides: ``SERVING_BATCH_MAX_LATENCY_MS`` / ``SERVING_BATCH_MAX_ROWS``
for ``modelyard serve``, ``max_batch_time`` / ``max_batch_size`` in MLServer's
``model-settings.json`` (requests of one row, so rows and requests are the same count).
MLServer runs from a venv built with uv from ``requirements/mlserver-bench.txt`` under
``~/.cache/modelyard-bench``. Cells are repeated ``--repeats`` times; the table shows the medians,
the JSON keeps every sample with the load average (``--report FILE...`` reprints its tables).
Everything binds to 127.0.0.1 on free ports and every process started is stopped.
"""

from __future__ import annotations

import argparse
import dataclasses
import http.client
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from benchmarks.serving import FEATURES, ROOT, command, make_models, running, wrk
from tests.conftest import free_port

CACHE = Path.home() / ".cache" / "modelyard-bench"
MLSERVER_LOCK = "mlserver-bench"
PROTOCOLS = ("wrk-invocations", "wrk-v2", "py-invocations", "py-v2", "py-grpc")
Call = Callable[[], None]


def mlserver_python() -> Path:
    """The Python of the MLServer venv (built from ``requirements/mlserver-bench.txt`` once).

    Raises:
        RuntimeError: uv or pip could not install the lock (the message holds their last lines).
    """
    os.environ.setdefault("MODELYARD_TEST_CACHE", str(CACHE))
    from tests.mlflow_env import mlflow_python

    return mlflow_python(MLSERVER_LOCK)


def bodies(root: Path, row: list[float]) -> dict[str, bytes]:
    """One row as an MLflow ``dataframe_split`` body and as an OIP V2 body (a tensor a column)."""
    invocations = {"dataframe_split": {"columns": FEATURES, "data": [row]}}
    v2 = {
        "parameters": {"content_type": "pd"},
        "inputs": [
            {"name": name, "shape": [1], "datatype": "FP64", "data": [value]}
            for name, value in zip(FEATURES, row, strict=True)
        ],
    }
    out = {"invocations": json.dumps(invocations).encode(), "v2": json.dumps(v2).encode()}
    for name, body in out.items():
        (root / f"body-{name}.json").write_bytes(body)
    return out


def http_client(port: int, path: str, body: bytes) -> Callable[[], Call]:
    """A factory of callers POSTing ``body`` to ``path`` on a keep-alive connection of their own."""

    def connect() -> Call:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        headers = {"Content-Type": "application/json"}

        def call() -> None:
            try:
                conn.request("POST", path, body=body, headers=headers)
                response = conn.getresponse()
                response.read()
            except (OSError, http.client.HTTPException):
                conn.close()
                raise
            if response.status != 200:
                raise RuntimeError(f"HTTP {response.status}")

        return call

    return connect


def grpc_client(port: int, model: str, row: list[float]) -> Callable[[], Call]:
    """A factory of callers sending one OIP ``ModelInfer`` (a tensor a column) on a client each."""
    import tritonclient.grpc as grpcclient

    def connect() -> Call:
        client = grpcclient.InferenceServerClient(f"127.0.0.1:{port}")
        inputs = []
        for name, value in zip(FEATURES, row, strict=True):
            tensor = grpcclient.InferInput(name, [1], "FP64")
            tensor.set_data_from_numpy(np.array([value], dtype=np.float64))
            inputs.append(tensor)

        def call() -> None:
            client.infer(model, inputs, parameters={"content_type": "pd"})

        return call

    return connect


def drive(connect: Callable[[], Call], clients: int, seconds: float) -> dict[str, float]:
    """``clients`` threads calling in a closed loop for ``seconds``: rps, p50 and p99 (ms), errors.

    Every thread connects first; the clock starts when all have. A request started before the
    end is counted when it finishes, and the rate is over the time until the last one did.
    """
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors = [0] * clients
    gate = threading.Barrier(clients + 1)
    window: dict[str, float] = {}
    failures: list[BaseException] = []

    def worker(i: int) -> None:
        try:
            call = connect()
        except BaseException as err:
            failures.append(err)
            gate.abort()
            raise
        gate.wait()
        end, own = window["end"], latencies[i]
        while (started := time.perf_counter()) < end:
            try:
                call()
            except Exception:
                errors[i] += 1
                continue
            own.append(time.perf_counter() - started)

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    began = time.perf_counter()
    window["end"] = began + seconds
    try:
        gate.wait(timeout=120)
    except threading.BrokenBarrierError:
        raise RuntimeError(f"a client could not connect: {failures[:1]!r}") from None
    for thread in threads:
        thread.join(timeout=seconds + 120)
    elapsed = time.perf_counter() - began
    done = np.array([x for own in latencies for x in own]) * 1000
    if not len(done):
        return {"rps": 0.0, "p50": 0.0, "p99": 0.0, "errors": float(sum(errors))}
    return {
        "rps": len(done) / elapsed,
        "p50": float(np.percentile(done, 50)),
        "p99": float(np.percentile(done, 99)),
        "errors": float(sum(errors)),
    }


def mlserver_folder(
    root: Path, model: str, model_dir: Path, ports: dict[str, int], workers: int, batch: Batch
) -> Path:
    """A folder with MLServer's ``settings.json`` and the model's ``model-settings.json``."""
    folder = root / f"mlserver-{model}-{'on' if batch.on else 'off'}"
    (folder / model).mkdir(parents=True, exist_ok=True)
    settings = {
        "debug": False,
        "host": "127.0.0.1",
        "http_port": ports["http"],
        "grpc_port": ports["grpc"],
        "metrics_port": ports["metrics"],
        "parallel_workers": workers,
        "load_models_at_startup": True,
    }
    (folder / "settings.json").write_text(json.dumps(settings))
    model_settings: dict[str, Any] = {
        "name": model,
        "implementation": "mlserver_mlflow.MLflowRuntime",
        "parameters": {"uri": str(model_dir)},
    }
    if batch.on:
        model_settings["max_batch_size"] = batch.max_rows
        model_settings["max_batch_time"] = batch.max_latency_ms / 1000
    (folder / model / "model-settings.json").write_text(json.dumps(model_settings))
    return folder


class Batch:
    """Batching settings of one server: off, or on with a latency and a size cap."""

    def __init__(self, on: bool, max_latency_ms: float, max_rows: int) -> None:
        self.on, self.max_latency_ms, self.max_rows = on, max_latency_ms, max_rows

    def describe(self) -> dict[str, Any]:
        """The settings, as recorded in the JSON."""
        if not self.on:
            return {"batching": False}
        return {"batching": True, "max_latency_ms": self.max_latency_ms, "max_rows": self.max_rows}


def start_args(
    server: str,
    model: str,
    model_dir: Path,
    batch: Batch,
    args: argparse.Namespace,
    tmp: Path,
) -> tuple[list[str], dict[str, int], dict[str, str]]:
    """The command, ports and environment that start ``server`` for ``model``."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    ports = {"http": free_port(), "grpc": free_port()}
    if server == "modelyard":
        argv = command("modelyard", model_dir, ports["http"], args.workers, None, ports["grpc"])
        if batch.on:
            env["SERVING_BATCH_MAX_LATENCY_MS"] = str(batch.max_latency_ms)
            env["SERVING_BATCH_MAX_ROWS"] = str(batch.max_rows)
        return argv, ports, env
    python = mlserver_python()
    ports["metrics"] = free_port()
    folder = mlserver_folder(tmp, model, model_dir, ports, args.workers, batch)
    env["PATH"] = f"{python.parent}{os.pathsep}{env['PATH']}"
    env.pop("PYTHONPATH")
    return [str(python.parent / "mlserver"), "start", str(folder)], ports, env


def grpc_works(port: int, model: str, row: list[float]) -> str | None:
    """None when ``ModelInfer`` answers on ``port``; else why not."""
    try:
        grpc_client(port, model, row)()()
    except Exception as err:
        return f"{type(err).__name__}: {str(err)[:300]}"
    return None


def served_name(port: int) -> str:
    """The name the server gives its one model (OIP's repository index)."""
    index = httpx.post(f"http://127.0.0.1:{port}/v2/repository/index", json={}, timeout=30)
    index.raise_for_status()
    return str(index.json()[0]["name"])


@dataclasses.dataclass
class Served:
    """A server up for the benchmark: what it is, its ports and the name of its model."""

    server: str
    batch: Batch
    ports: dict[str, int]
    name: str
    cold_start_s: float
    no_grpc: str | None

    @property
    def label(self) -> str:
        """``server batching on|off``."""
        return f"{self.server} batching {'on' if self.batch.on else 'off'}"


def start_all(
    model: str,
    model_dir: Path,
    servers: list[tuple[str, Batch]],
    args: argparse.Namespace,
    tmp: Path,
    row: list[float],
    body: dict[str, bytes],
    stack: ExitStack,
    notes: list[str],
) -> list[Served]:
    """Start every server for ``model`` at once (stopped when ``stack`` closes).

    The servers start side by side (MLServer takes minutes on a loaded machine), so their cold
    starts overlap and are recorded only as a note. Failures go to ``notes``.
    """
    starts = []
    for server, batch in servers:
        label = f"{model} {server} batching {'on' if batch.on else 'off'}"
        try:
            starts.append(
                (label, server, batch, *start_args(server, model, model_dir, batch, args, tmp))
            )
        except Exception as err:
            notes.append(f"{label}: could not install: {err}")
            print(f"{label}: could not install: {err}", flush=True)

    def bring_up(start: tuple[Any, ...]) -> Served | None:
        label, server, batch, argv, ports, env = start
        log = tmp / f"{server}-{model}-{'on' if batch.on else 'off'}.log"
        try:
            _pid, cold = stack.enter_context(running(argv, ports["http"], log, env, timeout=900))
            name = served_name(ports["http"])
            httpx.post(
                f"http://127.0.0.1:{ports['http']}/v2/models/{name}/infer",
                content=body["v2"],
                headers={"Content-Type": "application/json"},
                timeout=60,
            ).raise_for_status()
        except Exception as err:
            notes.append(f"{label}: failed to start: {str(err)[:3000]}")
            print(f"{label}: failed to start: {str(err)[:3000]}", flush=True)
            return None
        no_grpc = grpc_works(ports["grpc"], name, row)
        if no_grpc is not None:
            notes.append(f"{label}: no gRPC cells: {no_grpc}")
        print(f"{label}: up in {cold:.1f} s, gRPC: {no_grpc or 'yes'}", flush=True)
        return Served(server, batch, ports, name, cold, no_grpc)

    with ThreadPoolExecutor(max_workers=max(1, len(starts))) as pool:
        return [s for s in pool.map(bring_up, starts) if s is not None]


def cell(
    served: Served,
    protocol: str,
    clients: int,
    row: list[float],
    body: dict[str, bytes],
    files: dict[str, Path],
    seconds: float,
) -> dict[str, float] | None:
    """One cell (after a 1 s warm-up): rps, p50, p99, errors, load; None if it cannot be run."""
    port = served.ports["http"]
    v2 = f"/v2/models/{served.name}/infer"
    load = os.getloadavg()[0]
    if protocol.startswith("wrk-"):
        path, kind = ("/invocations", "invocations") if protocol.endswith("ions") else (v2, "v2")
        wrk(port, files[kind], 1, clients, path)
        return {**wrk(port, files[kind], seconds, clients, path), "load1": load}
    if protocol == "py-grpc":
        if served.no_grpc is not None:
            return None
        connect = grpc_client(served.ports["grpc"], served.name, row)
    elif protocol == "py-v2":
        connect = http_client(port, v2, body["v2"])
    else:
        connect = http_client(port, "/invocations", body["invocations"])
    drive(connect, clients, 1)
    return {**drive(connect, clients, seconds), "load1": load}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", default="forest,xgboost")
    parser.add_argument("--servers", default="modelyard,mlserver")
    parser.add_argument("--clients", default="8,32")
    parser.add_argument("--protocols", default=",".join(PROTOCOLS))
    parser.add_argument("--batching", default="off,on")
    parser.add_argument("--duration", type=float, default=5, help="seconds per cell")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--max-latency-ms", type=float, default=2.0)
    parser.add_argument("--max-rows", type=int, default=32)
    parser.add_argument("--out", type=Path, help="write the raw JSON here")
    parser.add_argument("--report", type=Path, nargs="+", help="only print these JSON runs' tables")
    args = parser.parse_args()
    if args.report:
        print(report(args.report))
        return
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed (apt-get install wrk)")
    tmp = Path(tempfile.mkdtemp(prefix="modelyard-batching-"))
    models = make_models(tmp, args.models.split(","))
    row = np.random.default_rng(1).normal(size=10).round(6).tolist()
    body = bodies(tmp, row)
    files = {name: tmp / f"body-{name}.json" for name in body}
    servers = [
        (server, Batch(mode == "on", args.max_latency_ms, args.max_rows))
        for server in args.servers.split(",")
        for mode in args.batching.split(",")
    ]
    result = header(args)
    print(f"{args.repeats} x {args.duration:g} s per cell, {args.workers} workers", flush=True)
    for model, model_dir in models.items():
        with ExitStack() as stack:
            up = start_all(model, model_dir, servers, args, tmp, row, body, stack, result["notes"])
            for repeat in range(args.repeats):
                turn = 0
                for clients in [int(c) for c in args.clients.split(",")]:
                    for protocol in args.protocols.split(","):
                        # Servers take turns in a rotating order: load drift spreads over all.
                        turn += 1
                        shift = (turn + repeat) % max(1, len(up))
                        for served in up[shift:] + up[:shift]:
                            measured = cell(
                                served, protocol, clients, row, body, files, args.duration
                            )
                            if measured is None:
                                continue
                            sample = {
                                "repeat": repeat,
                                "model": model,
                                "server": served.server,
                                **served.batch.describe(),
                                "clients": clients,
                                "protocol": protocol,
                                "cold_start_s": served.cold_start_s,
                                **measured,
                            }
                            result["samples"].append(sample)
                            print(
                                f"| {repeat} | {model} | {served.label} | {clients} | {protocol} | "
                                f"{measured['rps']:.0f} | {measured['p50']:.1f} | "
                                f"{measured['p99']:.1f} | {measured['errors']:.0f} | "
                                f"{measured['load1']:.1f} |",
                                flush=True,
                            )
                if args.out:
                    args.out.write_text(json.dumps(result, indent=1) + "\n")
    result["uptime_end"] = uptime()
    result["medians"] = medians(result["samples"])
    print(table(result["medians"]))
    if args.out:
        args.out.write_text(json.dumps(result, indent=1) + "\n")
    shutil.rmtree(tmp, ignore_errors=True)


def uptime() -> str:
    """``uptime``'s line (the load averages)."""
    return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()


def header(args: argparse.Namespace) -> dict[str, Any]:
    """The JSON's head: command, commit, machine, load and settings; empty samples and notes."""

    def git(*argv: str) -> str:
        done = subprocess.run(["git", *argv], capture_output=True, text=True, cwd=ROOT, check=False)
        return done.stdout.strip()

    return {
        "benchmark": "batching",
        "command": " ".join(["python", "-m", "benchmarks.batching", *sys.argv[1:]]),
        "commit": git("rev-parse", "HEAD"),
        "dirty_files": len(git("status", "--porcelain").splitlines()),
        "nproc": os.cpu_count(),
        "uptime_start": uptime(),
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "settings": {
            "duration_s": args.duration,
            "warmup_s": 1,
            "workers": args.workers,
            "max_latency_ms": args.max_latency_ms,
            "max_rows": args.max_rows,
            "rows_per_request": 1,
            "wrk_threads": 2,
            "mlserver": "1.7.1 + mlserver-mlflow 1.7.1, parallel_workers = workers, debug off",
        },
        "samples": [],
        "notes": [],
    }


def medians(samples: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The median of each cell's repeats (rps, p50, p99 taken separately).

    A sample that completed no request (every wrk request over its timeout, which wrk shows as
    a p50 of 0) is left out of the medians and counted in ``empty``.
    """
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for s in samples:
        key = (s["model"], s["server"], s["batching"], s["clients"], s["protocol"])
        groups.setdefault(key, []).append(s)
    out = []
    for (model, server, batching, clients, protocol), group in groups.items():
        done = [s for s in group if s["rps"] > 0 and s["p50"] > 0]
        out.append(
            {
                "model": model,
                "server": server,
                "batching": batching,
                "clients": clients,
                "protocol": protocol,
                "n": len(done),
                "empty": len(group) - len(done),
                **{
                    k: statistics.median(s[k] for s in done) if done else 0.0
                    for k in ("rps", "p50", "p99")
                },
                "errors": sum(s["errors"] + s.get("timeouts", 0) for s in group),
                "load1": statistics.median(s["load1"] for s in group),
            }
        )
    return out


def table(rows: list[dict[str, Any]]) -> str:
    """The medians as a markdown table: batching on/off and modelyard/MLServer throughput ratios."""
    by = {(r["model"], r["server"], r["batching"], r["clients"], r["protocol"]): r for r in rows}
    lines = [
        "| model | clients | protocol | server | batching | req/s | p50 ms | p99 ms | on/off | "
        "vs MLServer | n | errors | load |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]

    def ratio(a: dict[str, Any] | None, b: dict[str, Any] | None) -> str:
        if a is None or b is None or not a["rps"] or not b["rps"]:
            return ""
        return f"{a['rps'] / b['rps']:.2f}x"

    for r in sorted(
        rows, key=lambda r: (r["model"], r["clients"], r["protocol"], r["server"], r["batching"])
    ):
        cell = (r["model"], r["server"])
        rest = (r["clients"], r["protocol"])
        on_off = ratio(r, by.get((*cell, False, *rest))) if r["batching"] else ""
        mlserver = by.get((r["model"], "mlserver", r["batching"], *rest))
        versus = ratio(r, mlserver) if r["server"] != "mlserver" else ""
        lines.append(
            f"| {r['model']} | {r['clients']} | {r['protocol']} | {r['server']} | "
            f"{'on' if r['batching'] else 'off'} | {r['rps']:.0f} | {r['p50']:.0f} | "
            f"{r['p99']:.0f} | {on_off} | {versus} | {r['n']} | {r['errors']:.0f} | "
            f"{r['load1']:.0f} |"
        )
    return "\n".join(lines)


def report(paths: list[Path]) -> str:
    """The table of the medians of every sample in the JSON files at ``paths`` (one run each)."""
    parts = []
    for path in paths:
        run = json.loads(path.read_text())
        parts.append(
            f"### {path.name}\n\n`{run['command']}` at {run['commit'][:10]}, {run['nproc']} CPUs, "
            f"{run['started']}; load at start: {run['uptime_start'].split('load average: ')[-1]}, "
            f"at end: {run.get('uptime_end', '?').split('load average: ')[-1]}\n\n"
            + table(medians(run["samples"]))
            + "".join(f"\n\nNote: {note[:400]}" for note in run["notes"])
        )
    return "\n\n".join(parts)


if __name__ == "__main__":
    main()
