"""Reading a run's artifacts for the UI: the tree, and previews of text, JSON, CSV and images."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import posixpath
from dataclasses import dataclass, field
from typing import Any

from registry.artifacts import ArtifactStore
from registry.errors import InvalidParameter
from registry.store.rows import Run

MAX_TREE_ENTRIES = 1000
MAX_DEPTH = 8
PREVIEW_BYTES = 256 * 1024
CSV_ROWS = 20
IMAGE_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".svg": "image/svg+xml",
}
TEXT_SUFFIXES = {".txt", ".log", ".md", ".py", ".yaml", ".yml", ".cfg", ".ini", ".toml", ".sh"}
TEXT_NAMES = {"MLmodel", "requirements.txt", "conda.yaml", "python_env.yaml", "Dockerfile"}


@dataclass
class Node:
    """A file or directory of the tree, ``path`` relative to the run's artifact root."""

    name: str
    path: str
    is_dir: bool
    size: int | None = None
    children: list[Node] = field(default_factory=list)


def run_root(run: Run) -> str:
    """The store path of a run's artifacts: ``<experiment_id>/<run_id>/artifacts``."""
    prefix = "mlflow-artifacts:/"
    uri = run.artifact_uri or ""
    if uri.startswith(prefix):
        return uri[len(prefix) :].strip("/")
    return f"{run.experiment_id}/{run.run_uuid}/artifacts"


def clean_path(path: str) -> str:
    """A relative artifact path, normalised; ``..`` and absolute paths are refused.

    Raises:
        InvalidParameter: the path leaves the run's artifact directory.
    """
    normal = posixpath.normpath(path.strip().lstrip("/")) if path.strip() else ""
    if normal in ("", "."):
        return ""
    if normal.startswith("..") or path.strip().startswith("/"):
        raise InvalidParameter(f"Invalid artifact path {path!r}")
    return normal


def tree(store: ArtifactStore, root: str) -> tuple[list[Node], bool]:
    """The artifact tree under ``root`` and whether it was cut at ``MAX_TREE_ENTRIES``."""
    budget = [MAX_TREE_ENTRIES]

    def walk(rel: str, depth: int) -> list[Node]:
        nodes = []
        for info in store.list(posixpath.join(root, rel) if rel else root):
            if budget[0] <= 0:
                break
            budget[0] -= 1
            name = posixpath.basename(info.path.rstrip("/"))
            path = posixpath.join(rel, name) if rel else name
            node = Node(name, path, info.is_dir, info.file_size)
            if info.is_dir and depth < MAX_DEPTH:
                node.children = walk(path, depth + 1)
            nodes.append(node)
        return sorted(nodes, key=lambda n: (not n.is_dir, n.name.lower()))

    nodes = walk("", 0)
    return nodes, budget[0] <= 0


def model_dirs(nodes: list[Node]) -> list[str]:
    """Paths of the directories in a tree that hold an ``MLmodel`` file (models logged as files)."""
    found = []
    for node in nodes:
        if node.is_dir:
            if any(child.name == "MLmodel" and not child.is_dir for child in node.children):
                found.append(node.path)
            found += model_dirs(node.children)
    return found


def preview_kind(path: str) -> str:
    """``image``, ``json``, ``csv``, ``text`` or ``none`` for how a file can be shown."""
    name = posixpath.basename(path)
    suffix = posixpath.splitext(name)[1].lower()
    if suffix in IMAGE_TYPES:
        return "image"
    if suffix == ".json":
        return "json"
    if suffix in (".csv", ".tsv"):
        return "csv"
    if suffix in TEXT_SUFFIXES or name in TEXT_NAMES:
        return "text"
    return "none"


def preview(store: ArtifactStore, full_path: str, kind: str) -> dict[str, Any]:
    """What the preview pane shows: ``text`` (maybe cut) or ``rows`` (a CSV head).

    Raises:
        ArtifactNotFound: no file at ``full_path``.
    """
    with store.open(full_path) as stream:
        head = stream.read(PREVIEW_BYTES + 1)
    truncated = len(head) > PREVIEW_BYTES
    text = head[:PREVIEW_BYTES].decode("utf-8", errors="replace")
    if kind == "json" and not truncated:
        with contextlib.suppress(ValueError):
            text = json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    if kind == "csv":
        dialect = "excel-tab" if full_path.lower().endswith(".tsv") else "excel"
        reader = csv.reader(io.StringIO(text), dialect=dialect)
        rows = [row for _, row in zip(range(CSV_ROWS + 1), reader, strict=False)]
        return {"rows": rows, "truncated": True}
    return {"text": text, "truncated": truncated}
