"""Artifacts through the server's proxy: upload, list and download under an artifact URI.

The server hands out ``mlflow-artifacts:/<path>`` URIs; the client maps them to
``<tracking>/api/2.0/mlflow-artifacts/artifacts/<path>`` through its one transport.
"""

from __future__ import annotations

import json
import posixpath
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

from registry.client.base import ClientBase
from registry.client.transport import ARTIFACTS
from registry.entities import FileInfo
from registry.errors import ArtifactNotFound, InvalidParameter


def proxy_path(artifact_uri: str) -> str:
    """The proxy path of an ``mlflow-artifacts:`` (or proxied ``http(s)``) artifact URI.

    Raises:
        InvalidParameter: the URI is not served by the artifact proxy.
    """
    if artifact_uri.startswith("mlflow-artifacts:"):
        rest = artifact_uri[len("mlflow-artifacts:") :]
        if rest.startswith("//"):
            rest = rest[2:].split("/", 1)[1] if "/" in rest[2:] else ""
        return rest.strip("/")
    if artifact_uri.startswith(("http://", "https://")) and ARTIFACTS in artifact_uri:
        return artifact_uri.split(ARTIFACTS, 1)[1].strip("/")
    raise InvalidParameter(
        f"Artifact URI {artifact_uri!r} is not served by the tracking server's artifact proxy "
        "(expected mlflow-artifacts:/...)."
    )


def _join(*parts: str | None) -> str:
    return posixpath.join(*[p.strip("/") for p in parts if p and p.strip("/")])


def _check_relative(path: str) -> str:
    if path.startswith("/") or ".." in Path(path).parts:
        raise InvalidParameter(f"Unsafe artifact path {path!r} from the server.")
    return path


class ArtifactsMixin(ClientBase):
    """Upload, list and download artifacts of runs and logged models."""

    def _run_artifact_root(self, run_id: str) -> str:
        reply = self._call("GET", "runs/get", {"run_id": run_id})
        return proxy_path(reply["run"]["info"]["artifact_uri"])

    def upload_artifacts(
        self, artifact_uri: str, local_path: str | Path, artifact_path: str | None = None
    ) -> None:
        """Upload a file, or a directory tree, under ``artifact_uri/artifact_path``."""
        root, src = proxy_path(artifact_uri), Path(local_path)
        if src.is_dir():
            for file in sorted(p for p in src.rglob("*") if p.is_file()):
                rel = file.relative_to(src).as_posix()
                self._transport.upload(_join(root, artifact_path, rel), file)
        elif src.is_file():
            self._transport.upload(_join(root, artifact_path, src.name), src)
        else:
            raise InvalidParameter(f"No such file or directory: {str(src)!r}")

    def list_artifact_uri(self, artifact_uri: str, path: str | None = None) -> list[FileInfo]:
        """The entries directly under ``artifact_uri/path``, with paths relative to the URI."""
        base = _join(proxy_path(artifact_uri), path)
        infos = [FileInfo.from_dict(f) for f in self._transport.list_artifacts(base)]
        return [
            replace(
                info,
                path=_join(path, _check_relative(info.path.rsplit("/", 1)[-1])),
                file_size=None if info.is_dir else info.file_size,
            )
            for info in infos
        ]

    def download_artifact_uri(
        self, artifact_uri: str, dst: str | Path, path: str | None = None
    ) -> Path:
        """Download ``artifact_uri/path`` (a file or a directory tree) into ``dst``.

        Raises:
            ArtifactNotFound: nothing is stored there.
        """
        dst = Path(dst)
        entries = self.list_artifact_uri(artifact_uri, path)
        if not entries:
            name = posixpath.basename(path.strip("/")) if path else ""
            target = dst / name if name else dst
            self._transport.download(_join(proxy_path(artifact_uri), path), target)
            return target
        target = dst / posixpath.basename(path.strip("/")) if path else dst
        target.mkdir(parents=True, exist_ok=True)
        self._download_tree(artifact_uri, path or "", entries, target)
        return target

    def _download_tree(self, uri: str, base: str, entries: list[FileInfo], target: Path) -> None:
        for entry in entries:
            rel = posixpath.relpath(entry.path, base) if base else entry.path
            if entry.is_dir:
                (target / rel).mkdir(parents=True, exist_ok=True)
                children = self.list_artifact_uri(uri, entry.path)
                self._download_tree(uri, entry.path, children, target / rel)
            else:
                self._transport.download(_join(proxy_path(uri), entry.path), target / rel)

    def log_artifact(
        self, run_id: str, local_path: str | Path, artifact_path: str | None = None
    ) -> None:
        """Upload one file into the run's artifacts (under ``artifact_path``)."""
        src = Path(local_path)
        if not src.is_file():
            raise InvalidParameter(f"No such file: {str(src)!r}")
        self._transport.upload(_join(self._run_artifact_root(run_id), artifact_path, src.name), src)

    def log_artifacts(
        self, run_id: str, local_dir: str | Path, artifact_path: str | None = None
    ) -> None:
        """Upload a directory's files into the run's artifacts (under ``artifact_path``)."""
        root = "mlflow-artifacts:/" + self._run_artifact_root(run_id)
        if not Path(local_dir).is_dir():
            raise InvalidParameter(f"No such directory: {str(local_dir)!r}")
        self.upload_artifacts(root, local_dir, artifact_path)

    def log_text(self, run_id: str, text: str, artifact_file: str) -> None:
        """Store ``text`` as the run artifact ``artifact_file``."""
        self._log_bytes(run_id, text.encode(), artifact_file)

    def log_dict(self, run_id: str, dictionary: dict[str, Any], artifact_file: str) -> None:
        """Store a dict as JSON (or YAML for ``.yaml``/``.yml``) at ``artifact_file``."""
        if artifact_file.endswith((".yaml", ".yml")):
            import yaml

            text = yaml.safe_dump(dictionary, sort_keys=False)
        else:
            text = json.dumps(dictionary, indent=2)
        self._log_bytes(run_id, text.encode(), artifact_file)

    def _log_bytes(self, run_id: str, data: bytes, artifact_file: str) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            file = Path(tmp) / posixpath.basename(artifact_file)
            file.write_bytes(data)
            self.log_artifact(run_id, file, posixpath.dirname(artifact_file) or None)

    def list_artifacts(self, run_id: str, path: str | None = None) -> list[FileInfo]:
        """The run's artifacts directly under ``path`` (paths relative to the run root)."""
        return self.list_artifact_uri("mlflow-artifacts:/" + self._run_artifact_root(run_id), path)

    def download_artifacts(self, run_id: str, path: str, dst_path: str | None = None) -> str:
        """Download a run artifact (file or directory) and return its local path.

        Raises:
            ArtifactNotFound: the run has no artifact at ``path``.
        """
        dst = Path(dst_path) if dst_path else Path(tempfile.mkdtemp(prefix="modelyard-"))
        uri = "mlflow-artifacts:/" + self._run_artifact_root(run_id)
        try:
            return str(self.download_artifact_uri(uri, dst, path))
        except ArtifactNotFound:
            raise ArtifactNotFound(f"Run {run_id} has no artifact {path!r}.") from None
