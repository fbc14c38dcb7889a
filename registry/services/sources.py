"""Which ``source`` a model version may point at: never a path the client chose on our disk.

Accepted: ``runs:/<run_id>/<path>``, ``models:/<...>``, ``mlflow-artifacts:/<path>`` (no host), and
a ``file:`` URI or absolute path under the server's own local artifact root (or, for an S3 root,
a URI under that prefix). Everything is checked after percent-decoding once and twice, so
``%2e%2e`` and ``%252e%252e`` are caught as ``..``.
"""

from __future__ import annotations

import posixpath
import re
from pathlib import PurePosixPath
from urllib.parse import unquote, urlsplit

from registry.config import Config
from registry.errors import InvalidParameter

_RUN_ID = re.compile(r"^[0-9A-Za-z][\w\-]{0,31}$")
_SAFE_SCHEMES = ("runs", "models", "mlflow-artifacts")


def validate_run_id(run_id: str) -> None:
    """Check a run id's shape.

    Raises:
        InvalidParameter: it is not a run id.
    """
    if not _RUN_ID.match(run_id):
        raise InvalidParameter(f"Invalid run ID: {run_id!r}.")


def validate_source(source: str, run_id: str | None, config: Config) -> None:
    """Accept ``source`` only if it names a location the server controls.

    Raises:
        InvalidParameter: a local path, a foreign URI, ``..``, NUL bytes, or a ``runs:/`` URI
            whose run differs from ``run_id``.
    """
    if not source:
        raise InvalidParameter("Model version source must not be empty.")
    variants = [source, unquote(source), unquote(unquote(source))]
    for text in variants:
        if "\x00" in text or any(ord(ch) < 32 for ch in text):
            raise InvalidParameter("Invalid model version source: control characters.")
        if _has_dot_segment(text):
            raise InvalidParameter(f"Invalid model version source {source!r}: '..' segments.")
    parts = urlsplit(source)
    scheme = parts.scheme.lower()
    if scheme in _SAFE_SCHEMES:
        if parts.netloc:
            raise InvalidParameter(f"Invalid model version source {source!r}: no host allowed.")
        if scheme == "runs":
            _check_runs_uri(parts.path, run_id, source)
        return
    if _under_artifact_root(source, scheme, config):
        return
    raise InvalidParameter(
        f"Invalid model version source {source!r}: use a runs:/, models:/ or mlflow-artifacts:/"
        " URI, or a location under the server's artifact root."
    )


def _has_dot_segment(text: str) -> bool:
    return any(segment == ".." for segment in re.split(r"[/\\]", text))


def _check_runs_uri(path: str, run_id: str | None, source: str) -> None:
    source_run = path.lstrip("/").split("/", 1)[0]
    if not source_run:
        raise InvalidParameter(f"Invalid model version source {source!r}: no run id.")
    validate_run_id(source_run)
    if run_id and run_id != source_run:
        raise InvalidParameter(
            f"Invalid model version source: {source!r} does not belong to run {run_id}."
        )


def _under_artifact_root(source: str, scheme: str, config: Config) -> bool:
    root_path = config.artifact_root_path()
    if root_path is None:
        root = config.artifact_root.rstrip("/") + "/"
        return source.startswith(root)
    if scheme == "file":
        parts = urlsplit(source)
        if parts.netloc not in ("", "localhost"):
            return False
        path = unquote(parts.path)
    elif scheme == "":
        path = source
    else:
        return False
    if not path.startswith("/"):
        return False
    normal = PurePosixPath(posixpath.normpath(path))
    return normal != PurePosixPath(root_path) and normal.is_relative_to(PurePosixPath(root_path))
