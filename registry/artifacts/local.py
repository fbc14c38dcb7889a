"""Artifacts in a local directory (placeholder until the artifacts work lands)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import BinaryIO

from registry.artifacts import FileInfo
from registry.errors import ArtifactNotFound, InvalidParameter


class LocalArtifactStore:
    """A directory root; every path must stay inside it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def _resolve(self, path: str) -> Path:
        target = (self.root / path).resolve()
        if target != self.root and self.root not in target.parents:
            raise InvalidParameter(f"Invalid artifact path {path!r}")
        return target

    def put(self, path: str, src: BinaryIO) -> int:
        """Write ``src`` to ``path``."""
        target = self._resolve(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("wb") as out:
            shutil.copyfileobj(src, out)
        return target.stat().st_size

    def open(self, path: str) -> BinaryIO:
        """Open the file at ``path``."""
        target = self._resolve(path)
        if not target.is_file():
            raise ArtifactNotFound(f"No such artifact: '{path}'")
        return target.open("rb")

    def list(self, prefix: str) -> list[FileInfo]:
        """Children of ``prefix``."""
        target = self._resolve(prefix)
        if not target.is_dir():
            return []
        return [
            FileInfo(p.name, p.is_dir(), None if p.is_dir() else p.stat().st_size)
            for p in sorted(target.iterdir())
        ]

    def delete(self, prefix: str) -> None:
        """Remove ``prefix``."""
        target = self._resolve(prefix)
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
