"""Copy artifact trees into the destination store: streamed, resumable, each file verified.

A file already at its destination with the same size and sha256 is skipped, so an interrupted
copy resumes where it stopped. Every copied file is read back and must match the source's size
and sha256; a mismatch removes it and is reported. A missing source file or tree is reported and
skipped, never fatal.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Protocol
from urllib.parse import unquote, urlsplit

from registry.artifacts import CHUNK_SIZE, ArtifactStore, FileInfo
from registry.errors import ArtifactNotFound, RegistryError
from registry.importers.uris import UriMapper

logger = logging.getLogger(__name__)


class SourceTree(Protocol):
    """A read-only tree of files."""

    def walk(self) -> Iterator[tuple[str, int | None]]:
        """Every file below the root as (relative path, size), or nothing when it is missing."""
        ...

    def open(self, path: str) -> BinaryIO:
        """A readable stream of one file; raises ``ArtifactNotFound``."""
        ...


class LocalTree:
    """A directory on this machine, never written to."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def walk(self) -> Iterator[tuple[str, int | None]]:
        """Files below the directory, sorted, as (relative path, size)."""
        if not self.root.is_dir():
            return
        for directory, dirs, files in os.walk(self.root):
            dirs.sort()
            for name in sorted(files):
                full = Path(directory) / name
                try:
                    size: int | None = full.stat().st_size
                except OSError:  # listed but unreadable (a dangling link): open() reports it
                    size = None
                yield full.relative_to(self.root).as_posix(), size

    def open(self, path: str) -> BinaryIO:
        """The file at ``path`` below the root.

        Raises:
            ArtifactNotFound: there is no such file.
        """
        try:
            return (self.root / path).open("rb")
        except OSError:
            raise ArtifactNotFound(f"No such artifact: {self.root / path}") from None


class StoreTree:
    """A tree read through an artifact store's ``list``/``open`` (S3, an MLflow proxy)."""

    def __init__(self, store: object) -> None:
        self._store = store

    def walk(self) -> Iterator[tuple[str, int | None]]:
        """Files below the store's root, depth first, as (relative path, size)."""
        pending = [""]
        while pending:
            prefix = pending.pop()
            infos: list[FileInfo] = self._store.list(prefix)  # type: ignore[attr-defined]
            for info in infos:
                path = f"{prefix}/{info.path}" if prefix else info.path
                if info.is_dir:
                    pending.append(path)
                else:
                    yield path, info.file_size

    def open(self, path: str) -> BinaryIO:
        """The file at ``path`` (``ArtifactNotFound`` when missing)."""
        stream: BinaryIO = self._store.open(path)  # type: ignore[attr-defined]
        return stream


TreeOpener = Callable[[str], SourceTree]
"""Opens the tree at a ``Location`` URI (``file:``, ``s3:``, ``mlflow-artifacts:``)."""


def local_or_s3_tree(s3_endpoint_url: str | None) -> TreeOpener:
    """A ``TreeOpener`` for ``file:`` and ``s3:`` locations."""

    def open_tree(uri: str) -> SourceTree:
        parts = urlsplit(uri)
        if parts.scheme == "file":
            return LocalTree(Path(unquote(parts.path)))
        from registry.artifacts.s3 import S3ArtifactStore

        return StoreTree(S3ArtifactStore(uri, endpoint_url=s3_endpoint_url or None))

    return open_tree


@dataclass
class CopyStats:
    """What the copy did, for the report."""

    files_copied: int = 0
    files_skipped: int = 0
    bytes_copied: int = 0
    missing: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


class _Hashing:
    def __init__(self, src: BinaryIO, on_bytes: Callable[[int], None]) -> None:
        self._src = src
        self._on_bytes = on_bytes
        self.sha256 = hashlib.sha256()
        self.size = 0

    def read(self, size: int = -1, /) -> bytes:
        chunk = self._src.read(size)
        self.sha256.update(chunk)
        self.size += len(chunk)
        self._on_bytes(len(chunk))
        return chunk


def _sha256(stream: BinaryIO) -> str:
    digest = hashlib.sha256()
    with stream:
        while chunk := stream.read(CHUNK_SIZE):
            digest.update(chunk)
    return digest.hexdigest()


class ArtifactCopier:
    """Copies the trees behind source URIs to where ``mapper`` puts them in ``dest``."""

    def __init__(
        self,
        mapper: UriMapper,
        dest: ArtifactStore,
        open_tree: TreeOpener,
        on_bytes: Callable[[int], None] = lambda n: None,
        on_tree: Callable[[int], None] = lambda n: None,
    ) -> None:
        """Copy into ``dest``: ``on_tree(total bytes)`` per tree, ``on_bytes(n)`` per chunk."""
        self.stats = CopyStats()
        self._mapper = mapper
        self._dest = dest
        self._open_tree = open_tree
        self._on_bytes = on_bytes
        self._on_tree = on_tree
        self._done: set[str] = set()

    def copy_tree(self, uri: str) -> None:
        """Copy every file below ``uri``; skips trees already copied in this import."""
        location = self._mapper.source_location(uri)
        dest_root = self._mapper.dest_path(uri)
        if location is None or dest_root is None:
            self.stats.missing.append(f"{uri} (no readable source location)")
            return
        if any(dest_root == done or dest_root.startswith(done + "/") for done in self._done):
            return
        self._done.add(dest_root)
        tree = self._open_tree(location.uri)
        existing: dict[str, dict[str, int | None]] = {}
        try:
            files = list(tree.walk())
            self._on_tree(sum(size or 0 for _, size in files))
            for relative, size in files:
                self._copy_file(tree, relative, size, f"{dest_root}/{relative}", existing)
        except RegistryError as err:
            self.stats.missing.append(f"{uri}: {err.message}")

    def _copy_file(
        self,
        tree: SourceTree,
        relative: str,
        size: int | None,
        dest_path: str,
        existing: dict[str, dict[str, int | None]],
    ) -> None:
        parent, _, name = dest_path.rpartition("/")
        if parent not in existing:
            existing[parent] = {
                i.path: i.file_size for i in self._dest.list(parent) if not i.is_dir
            }
        try:
            if (
                size is not None
                and existing[parent].get(name) == size
                and _sha256(tree.open(relative)) == _sha256(self._dest.open(dest_path))
            ):
                self.stats.files_skipped += 1
                self._on_bytes(size)
                return
            with tree.open(relative) as src:
                reader = _Hashing(src, self._on_bytes)
                self._dest.put(dest_path, reader)
        except ArtifactNotFound as err:
            self.stats.missing.append(err.message)
            return
        if (size is not None and reader.size != size) or _sha256(
            self._dest.open(dest_path)
        ) != reader.sha256.hexdigest():
            self._dest.delete(dest_path)
            self.stats.failed.append(f"{dest_path}: size or sha256 differs after the copy")
            return
        self.stats.files_copied += 1
        self.stats.bytes_copied += reader.size
