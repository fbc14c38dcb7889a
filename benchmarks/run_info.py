"""What every benchmark's JSON records about its run: the commit, the machine and its load."""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def machine() -> dict[str, Any]:
    """The commit measured (and whether tracked files differ from it), the machine, its load now."""
    return {
        "commit": _git("rev-parse", "HEAD"),
        "uncommitted_changes": bool(_git("status", "--porcelain", "--untracked-files=no")),
        "nproc": os.cpu_count(),
        "cpu": _cpu_model(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "loadavg": list(os.getloadavg()),
    }


def _git(*argv: str) -> str:
    found = subprocess.run(["git", *argv], cwd=ROOT, capture_output=True, text=True, check=False)
    return found.stdout.strip()


def _cpu_model() -> str:
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        lines = []
    found = (line.split(":", 1)[1].strip() for line in lines if line.startswith("model name"))
    return next(found, platform.processor())


def new_result_path(stem: str) -> Path:
    """``benchmarks/results/<stem>.json`` if free, else ``<stem>_run<N>.json`` past the highest N.

    A run without ``--json`` never overwrites a kept result that docs may quote, and its number
    says it is the newest.
    """
    results = ROOT / "benchmarks" / "results"
    first = results / f"{stem}.json"
    if not first.exists():
        return first
    numbers = [
        int(suffix)
        for found in results.glob(f"{stem}_run*.json")
        if (suffix := found.stem.removeprefix(f"{stem}_run")).isdigit()
    ]
    return results / f"{stem}_run{max(numbers, default=1) + 1}.json"
