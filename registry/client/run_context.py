"""The system tags every fluent run records: user, source file, source type, git commit."""

from __future__ import annotations

import getpass
import logging
import os
import subprocess
import sys
from pathlib import Path

logger = logging.getLogger(__name__)


def current_user() -> str:
    """The user name MLflow records (``mlflow.user``)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def source_name() -> str:
    """The script being run (``mlflow.source.name``): ``sys.argv[0]`` as an absolute path."""
    main = sys.argv[0] if sys.argv and sys.argv[0] else ""
    if not main or main == "-c":
        return "<console>"
    return main


def _git_dir(start: Path) -> Path | None:
    for folder in (start, *start.parents):
        candidate = folder / ".git"
        if candidate.is_dir():
            return candidate
        if candidate.is_file():  # a worktree: ".git" holds "gitdir: <path>"
            text = candidate.read_text().strip()
            if text.startswith("gitdir:"):
                return (folder / text.split(":", 1)[1].strip()).resolve()
    return None


def _read_head(git_dir: Path) -> str | None:
    head = (git_dir / "HEAD").read_text().strip()
    if not head.startswith("ref:"):
        return head or None
    ref = head.split(":", 1)[1].strip()
    common = git_dir
    commondir = git_dir / "commondir"
    if commondir.is_file():
        common = (git_dir / commondir.read_text().strip()).resolve()
    for base in (git_dir, common):
        if (base / ref).is_file():
            return (base / ref).read_text().strip()
    packed = common / "packed-refs"
    if packed.is_file():
        for line in packed.read_text().splitlines():
            if line.endswith(" " + ref):
                return line.split(" ", 1)[0]
    return None


def git_commit(path: str) -> str | None:
    """The commit checked out in the repository holding ``path``, or None outside git.

    Reads ``.git`` directly; falls back on ``git rev-parse HEAD`` when the layout is unusual.
    """
    start = Path(path).resolve()
    folder = start if start.is_dir() else start.parent
    git_dir = _git_dir(folder)
    if git_dir is None:
        return None
    try:
        commit = _read_head(git_dir)
    except OSError:
        commit = None
    if commit:
        return commit
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=folder, capture_output=True, text=True, timeout=5
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def system_tags() -> dict[str, str]:
    """``mlflow.user``, ``mlflow.source.name``, ``mlflow.source.type`` and the git commit."""
    source = source_name()
    tags = {
        "mlflow.user": current_user(),
        "mlflow.source.name": source,
        "mlflow.source.type": "LOCAL",
    }
    commit = git_commit(source if source != "<console>" else os.getcwd())
    if commit:
        tags["mlflow.source.git.commit"] = commit
    return tags
