"""Artifacts in a local directory, with every path held inside it (symlinks included)."""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import BinaryIO

from registry.artifacts import CHUNK_SIZE, FileInfo, Readable
from registry.artifacts.paths import safe_relative_path
from registry.errors import ArtifactNotFound, InsufficientStorage, InvalidParameter

logger = logging.getLogger(__name__)

TEMP_PREFIX = ".modelyard-upload-"
"""Uploads in progress live beside their target under this prefix; listings hide them."""


class LocalArtifactStore:
    """A directory root; every path must stay inside it, even through symlinks."""

    def __init__(self, root: Path) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self.root = root.resolve()

    def put(self, path: str, src: Readable) -> int:
        """Stream ``src`` to ``path`` through a temp file; visible only once complete.

        Raises:
            InvalidParameter: the path is unsafe, empty, or collides with a directory or a file
                used as a directory.
            InsufficientStorage: the disk or the user's quota filled up; nothing was kept.
        """
        target = self._resolve(path, allow_root=False)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            raise InvalidParameter(
                f"Cannot store artifact {path!r}: a parent is an existing file"
            ) from None
        if target.is_dir():
            raise InvalidParameter(f"Cannot store artifact {path!r}: it is a directory")
        fd, temp_name = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as out:
                written = _copy(src, out)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temp_name, target)
        except BaseException as err:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp_name)
            if isinstance(err, OSError) and err.errno in (errno.ENOSPC, errno.EDQUOT):
                logger.error("artifact store full while writing %r: %s", path, err)
                raise InsufficientStorage(
                    f"Cannot store artifact {path!r}: the artifact store is full", path=path
                ) from None
            raise
        return written

    def open(self, path: str) -> BinaryIO:
        """A readable binary stream of the file at ``path``.

        Raises:
            InvalidParameter: the path is unsafe.
            ArtifactNotFound: there is no file at ``path``.
        """
        target = self._resolve(path, allow_root=False)
        try:
            return target.open("rb")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise ArtifactNotFound(f"No such artifact: '{path}'", path=path) from None

    def list(self, prefix: str) -> list[FileInfo]:
        """The direct children of directory ``prefix``, sorted by name; files carry sizes.

        Raises:
            InvalidParameter: the path is unsafe.
        """
        directory = self._resolve(prefix, allow_root=True)
        if not directory.is_dir():
            return []
        infos = []
        for child in sorted(directory.iterdir()):
            if child.name.startswith(TEMP_PREFIX) or not self._inside(child.resolve()):
                continue
            if child.is_dir():
                infos.append(FileInfo(child.name, True))
            elif child.is_file():
                infos.append(FileInfo(child.name, False, child.stat().st_size))
        return infos

    def delete(self, prefix: str) -> None:
        """Remove the file or directory tree at ``prefix``; a missing path is not an error.

        Raises:
            InvalidParameter: the path is unsafe or names the root itself.
        """
        target = self._resolve(prefix, allow_root=False)
        if target.is_dir():
            shutil.rmtree(target)
        else:
            with contextlib.suppress(FileNotFoundError):
                target.unlink()

    def _resolve(self, path: str, *, allow_root: bool) -> Path:
        relative = safe_relative_path(path)
        if not relative and not allow_root:
            raise InvalidParameter("Invalid artifact path: it names the artifact root", path=path)
        if relative.rsplit("/", 1)[-1].startswith(TEMP_PREFIX):
            raise InvalidParameter(f"Invalid artifact path {path!r}: reserved name", path=path)
        target = (self.root / relative).resolve()
        if not self._inside(target):
            logger.warning("artifact path %r resolves outside the root", path)
            raise InvalidParameter(f"Invalid artifact path {path!r}: outside the root", path=path)
        return target

    def _inside(self, resolved: Path) -> bool:
        return resolved == self.root or resolved.is_relative_to(self.root)


def _copy(src: Readable, out: BinaryIO) -> int:
    written = 0
    while chunk := src.read(CHUNK_SIZE):
        out.write(chunk)
        written += len(chunk)
    return written
