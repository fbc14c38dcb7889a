"""Peak server memory while a large artifact goes through the proxy (on demand, not in CI).

Starts a real ``modelyard server`` (gunicorn, 2 workers) with a local root and one with an S3
root on moto, PUTs an artifact streamed from a generator, GETs it back while hashing, and samples
the VmRSS of the gunicorn master and its workers from ``/proc`` every 20 ms.

    python -m benchmarks.artifacts_memory --size-mb 1024 --backend both
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import os
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx

from tests.registry.artifacts.moto_s3 import FAKE_CREDENTIALS, moto_s3, new_bucket
from tests.servers import registry_server

MIB = 1024 * 1024
BLOCK = os.urandom(MIB)


def rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0


def server_pids(port: int) -> list[int]:
    """The process listening on ``port`` (gunicorn master or worker), its parent and children."""
    pids = [int(p) for p in os.listdir("/proc") if p.isdigit()]
    parents = {}
    for pid in pids:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except (FileNotFoundError, ProcessLookupError):
            continue
        if b"registry.cli" in cmdline and str(port).encode() in cmdline:
            parents[pid] = int(stat.rsplit(")", 1)[1].split()[1])
    return sorted(parents)


class Sampler(threading.Thread):
    def __init__(self, port: int) -> None:
        super().__init__(daemon=True)
        self.port = port
        self.stop = threading.Event()
        self.peak_total = 0
        self.peak_each: dict[int, int] = {}

    def run(self) -> None:
        while not self.stop.is_set():
            total = 0
            for pid in server_pids(self.port):
                kib = rss_kib(pid)
                total += kib
                self.peak_each[pid] = max(self.peak_each.get(pid, 0), kib)
            self.peak_total = max(self.peak_total, total)
            time.sleep(0.02)


def body(size: int, digest: hashlib._Hash) -> Iterator[bytes]:
    left = size
    while left > 0:
        chunk = BLOCK[: min(MIB, left)]
        digest.update(chunk)
        left -= len(chunk)
        yield chunk


def measure(label: str, base: str, size: int) -> None:
    port = int(base.rsplit(":", 1)[1])
    idle = {pid: rss_kib(pid) for pid in server_pids(port)}
    sampler = Sampler(port)
    sampler.start()
    url = f"{base}/api/2.0/mlflow-artifacts/artifacts/1/bench/artifacts/big.bin"
    sent = hashlib.sha256()
    started = time.perf_counter()
    response = httpx.put(
        url, content=body(size, sent), headers={"Content-Length": str(size)}, timeout=600
    )
    response.raise_for_status()
    put_seconds = time.perf_counter() - started
    received = hashlib.sha256()
    count = 0
    started = time.perf_counter()
    with httpx.stream("GET", url, timeout=600) as download:
        download.raise_for_status()
        for chunk in download.iter_bytes():
            received.update(chunk)
            count += len(chunk)
    get_seconds = time.perf_counter() - started
    sampler.stop.set()
    sampler.join()
    assert count == size and received.digest() == sent.digest(), "artifact corrupted"
    mb = size / MIB
    speeds = f"PUT {mb / put_seconds:.0f} MiB/s, GET {mb / get_seconds:.0f} MiB/s"
    print(f"[{label}] {mb:.0f} MiB: {speeds}")
    print(f"[{label}] idle RSS (KiB) per process: {idle}")
    print(f"[{label}] peak RSS (KiB) per process: {sampler.peak_each}")
    largest = max(sampler.peak_each.values()) / 1024
    print(f"[{label}] peak RSS of the largest process: {largest:.0f} MiB")
    print(f"[{label}] peak RSS of master + workers together: {sampler.peak_total / 1024:.0f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=1024)
    parser.add_argument("--backend", choices=["local", "s3", "both"], default="both")
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's per-request log lines
    size = args.size_mb * MIB
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        (tmp_path / "local").mkdir()
        (tmp_path / "s3").mkdir()
        if args.backend in ("local", "both"):
            with registry_server(tmp_path / "local", artifact_root=str(tmp_path / "art")) as base:
                measure("local", base, size)
        if args.backend in ("s3", "both"):
            with ExitStack() as stack:
                endpoint = stack.enter_context(moto_s3())
                bucket = new_bucket(endpoint)
                env = {**FAKE_CREDENTIALS, "REGISTRY_S3_ENDPOINT_URL": endpoint}
                root = f"s3://{bucket}/bench"
                server = registry_server(tmp_path / "s3", artifact_root=root, extra_env=env)
                measure("s3", stack.enter_context(server), size)


if __name__ == "__main__":
    main()
