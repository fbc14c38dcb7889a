"""Artifact storage behind one contract: a local directory or an S3 prefix.

Paths given to a store are relative to its root, use ``/`` and are checked by
``registry.artifacts.paths.safe_relative_path`` before any I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import BinaryIO, Protocol

from registry.config import Config

CHUNK_SIZE = 1024 * 1024
"""Bytes read or written per step when streaming an artifact."""


class Readable(Protocol):
    """What ``put`` reads from: any object with ``read(size) -> bytes`` (a file, a request)."""

    def read(self, size: int = -1, /) -> bytes:
        """Up to ``size`` bytes; ``b""`` at the end."""
        ...


@dataclass(frozen=True)
class FileInfo:
    """One entry of a listing: ``path`` relative to the listed directory."""

    path: str
    is_dir: bool
    file_size: int | None = None


class ArtifactStore(Protocol):
    """Where artifact bytes live."""

    def put(self, path: str, src: Readable) -> int:
        """Stream ``src`` to ``path``; visible only once complete. Returns bytes written.

        If reading ``src`` raises, nothing is stored and the error propagates.
        """
        ...

    def open(self, path: str) -> BinaryIO:
        """A readable stream of the file at ``path``; raises ``ArtifactNotFound``."""
        ...

    def list(self, prefix: str) -> list[FileInfo]:
        """The direct children of directory ``prefix`` (empty when missing or a file).

        ``""`` lists the root. Entries are sorted by name.
        """
        ...

    def delete(self, prefix: str) -> None:
        """Remove the file or the whole directory at ``prefix`` (no error when missing).

        The root itself cannot be deleted this way (``InvalidParameter``).
        """
        ...


def open_artifact_store(config: Config) -> ArtifactStore:
    """The store for ``config.artifact_root``."""
    from registry.artifacts.local import LocalArtifactStore

    root = config.artifact_root_path()
    if root is None:
        from registry.artifacts.s3 import S3ArtifactStore

        s3: ArtifactStore = S3ArtifactStore(
            config.artifact_root, endpoint_url=config.s3_endpoint_url or None
        )
        return s3
    return LocalArtifactStore(root)
