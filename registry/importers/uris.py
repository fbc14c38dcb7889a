"""Where a source artifact URI's bytes are, and what URI the import stores for it.

With ``copy``, every tree is copied under the destination root and its URI becomes an
``mlflow-artifacts:/`` URI the Modelyard server serves: ``mlflow-artifacts:/P`` keeps its path
``P``; a ``file:``/plain-path or ``s3://`` URI under an experiment's artifact location moves to
``mlflow-artifacts:/<experiment id>/...`` (the layout Modelyard itself uses); anything else goes to
``mlflow-artifacts:/imported/<scheme>/<host and path>``. With ``keep``, every URI is stored
unchanged and the bytes stay where they are.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

COPY, KEEP = "copy", "keep"
PROXY_SCHEME = "mlflow-artifacts"
READABLE_SCHEMES = ("file", "s3", PROXY_SCHEME)


@dataclass(frozen=True)
class Location:
    """Where a tree's bytes are: ``file:///dir``, ``s3://bucket/prefix`` or ``mlflow-artifacts:/p``.

    The last is read through the source MLflow server's artifact proxy.
    """

    uri: str


def normalise(uri: str) -> str:
    """``uri`` with plain paths as ``file://`` URIs and no trailing slash."""
    scheme = urlsplit(uri).scheme
    if not scheme or len(scheme) == 1:  # a plain path (a Windows drive letter counts as one)
        return Path(uri).expanduser().resolve().as_uri()
    return uri.rstrip("/")


def _proxy_path(uri: str) -> str:
    return unquote(urlsplit(uri).path).strip("/")


class UriMapper:
    """Rewrites artifact URIs for one import and says where their bytes are read from."""

    def __init__(
        self,
        mode: str,
        experiment_locations: Iterable[tuple[int, str]],
        from_artifacts: str | None = None,
        proxy_source: bool = False,
    ) -> None:
        """Build the mapping.

        Args:
            mode: ``copy`` or ``keep``.
            experiment_locations: (experiment id, artifact location) of the source.
            from_artifacts: the folder or ``s3://`` prefix behind ``mlflow-artifacts:/`` URIs.
            proxy_source: read ``mlflow-artifacts:/`` URIs through the source server instead.
        """
        self.mode = mode
        self._from_artifacts = normalise(from_artifacts) if from_artifacts else None
        self._proxy_source = proxy_source
        claimed = {
            _proxy_path(location).split("/", 1)[0]
            for _, location in experiment_locations
            if urlsplit(location).scheme == PROXY_SCHEME
        }
        self._roots: list[tuple[str, str]] = []
        for experiment_id, location in experiment_locations:
            if not location or urlsplit(location).scheme == PROXY_SCHEME:
                continue
            base = str(experiment_id)
            self._roots.append(
                (normalise(location), base if base not in claimed else f"imported/{base}")
            )
        self._roots.sort(key=lambda root: len(root[0]), reverse=True)

    def target_uri(self, uri: str) -> str:
        """The URI the import stores in place of ``uri``."""
        if self.mode == KEEP or not uri:
            return uri
        path = self.dest_path(uri)
        return uri if path is None else f"{PROXY_SCHEME}:/{path}"

    def dest_path(self, uri: str) -> str | None:
        """The tree's path under the destination root, or None when it cannot be copied."""
        if not uri:
            return None
        scheme = urlsplit(uri).scheme
        if scheme == PROXY_SCHEME:
            return _proxy_path(uri)
        if scheme not in ("", "file", "s3") and len(scheme) != 1:
            return None
        full = normalise(uri)
        for root, base in self._roots:
            if full == root or full.startswith(root + "/"):
                return (base + full[len(root) :]).strip("/")
        parts = urlsplit(full)
        return f"imported/{parts.scheme}/{parts.netloc}{unquote(parts.path)}".replace("//", "/")

    def source_location(self, uri: str) -> Location | None:
        """Where ``uri``'s bytes are read from; None when unknown or a scheme we cannot read."""
        scheme = urlsplit(uri).scheme
        if scheme == PROXY_SCHEME:
            if self._proxy_source:
                return Location(f"{PROXY_SCHEME}:/{_proxy_path(uri)}")
            if self._from_artifacts is None:
                return None
            return Location(f"{self._from_artifacts}/{_proxy_path(uri)}".rstrip("/"))
        if scheme in ("", "file", "s3") or len(scheme) == 1:
            return Location(normalise(uri))
        return None
