"""What makes a model directory trusted: its canonical digest, and whether loading it unpickles.

The digest covers every file of the directory, ``MLmodel`` included: the sorted list of
``[relative POSIX path, size in bytes, sha256 hex]`` triples, written as compact ASCII JSON and
hashed with sha256, spelled ``sha256:<hex>``. The registry server computes it from the artifact
store when a version is registered and keeps it in the database; a client recomputes it over what
it downloaded. Empty directories do not count; any added, removed, renamed or edited file does.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from registry.errors import InvalidParameter
from registry.models.mlmodel import MLModel

PREFIX = "sha256:"
_BLOCK = 1 << 20
_SAFE_LOADERS = ("mlflow.xgboost",)


@dataclass(frozen=True, order=True)
class FileEntry:
    """One file of a model directory: its path relative to the directory, size and sha256."""

    path: str
    size: int
    sha256: str


def stream_entry(path: str, stream: BinaryIO) -> FileEntry:
    """Hash a readable stream (read to its end) as the file ``path`` of a model directory."""
    digest = hashlib.sha256()
    size = 0
    for block in iter(lambda: stream.read(_BLOCK), b""):
        digest.update(block)
        size += len(block)
    return FileEntry(path, size, digest.hexdigest())


def digest_of(entries: Iterable[FileEntry]) -> str:
    """The canonical digest of a directory given its files, in any order."""
    document = [[e.path, e.size, e.sha256] for e in sorted(entries)]
    text = json.dumps(document, ensure_ascii=True, separators=(",", ":"))
    return PREFIX + hashlib.sha256(text.encode("ascii")).hexdigest()


def directory_entries(model_dir: Path) -> list[FileEntry]:
    """Every file under ``model_dir`` as a FileEntry, sorted by path."""
    entries = []
    for file in sorted(model_dir.rglob("*")):
        if file.is_file():
            with file.open("rb") as handle:
                entries.append(stream_entry(file.relative_to(model_dir).as_posix(), handle))
    return entries


def directory_digest(model_dir: Path) -> str:
    """The canonical digest of the local directory ``model_dir``."""
    return digest_of(directory_entries(model_dir))


def verify_directory(model_dir: Path, expected: str, what: str) -> None:
    """Check that ``model_dir`` holds exactly the files whose digest is ``expected``.

    Raises:
        InvalidParameter: the directory's digest differs (``what`` names the model in the message).
    """
    found = directory_digest(model_dir)
    if found != expected:
        raise InvalidParameter(
            f"the files of {what} do not match the digest recorded when it was registered "
            f"(recorded {expected}, downloaded {found}): they were changed in the artifact "
            "store; refusing to load them",
            expected=expected,
            found=found,
        )


def pickle_reason(mlmodel: MLModel) -> str | None:
    """Why loading this model would unpickle Python objects (run code), or None when it would not.

    Only two loaders read nothing but data: scikit-learn models saved with skops whose
    ``skops_trusted_types`` are all scikit-learn, numpy or scipy classes (or numpy ufuncs), and
    xgboost's native format. Every other loader (pickle, cloudpickle, custom pyfunc models, an
    unknown loader, a skops model trusting a function or a foreign type) counts as unpickling.
    """
    loader = str((mlmodel.python_function or {}).get("loader_module") or "")
    if loader in _SAFE_LOADERS:
        return None
    if loader == "mlflow.sklearn":
        sklearn_conf = mlmodel.flavors.get("sklearn") or {}
        serialization = str(sklearn_conf.get("serialization_format") or "pickle")
        if serialization == "skops":
            return _skops_reason(sklearn_conf.get("skops_trusted_types") or [])
        return f"its scikit-learn model is serialized with {serialization}"
    if not loader:
        return "it names no python_function loader"
    return f"its loader {loader} unpickles a Python object (cloudpickle)"


def _skops_reason(recorded: object) -> str | None:
    from registry.models.sklearn import untrusted_types

    names = [str(t) for t in recorded] if isinstance(recorded, list) else [str(recorded)]
    refused = untrusted_types(names)
    if not refused:
        return None
    return (
        f"its skops model trusts {', '.join(refused)}, which are not scikit-learn, numpy or "
        "scipy classes (skops would call them as the model loads)"
    )
