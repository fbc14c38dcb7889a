"""Model URI -> local model directory -> a loaded ``registry.models`` Predictor."""

from __future__ import annotations

import dataclasses
import logging
import os
import re
import shutil
import tempfile
import time
import weakref
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from registry.errors import InvalidParameter
from registry.models.model_input import ModelInput

if TYPE_CHECKING:
    from registry.client import Client

logger = logging.getLogger(__name__)

_FOLLOWABLE = re.compile(r"^models:/(?:[^/@]+/[^/@]*[^/@\d][^/@]*|[^/@]+@[^/@]+)/?$")


class Predictor(Protocol):
    """What serving needs of a ``registry.models`` Predictor."""

    input_columns: list[str] | None
    needs_dataframe: bool
    signature: Any
    csv_dtypes: dict[str, str]

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        """Predict on a DataFrame, dict of columns, list of dicts or list of lists."""

    def predict_input(self, inp: ModelInput, *, drop_extra: bool = False) -> Any:
        """Predict on a decoded request, by the fastest path it allows."""

    def input_array(self, inp: ModelInput) -> np.ndarray | None:
        """The request as the array ``predict_array`` takes, or None."""

    def for_method(self, method: str) -> Predictor | None:
        """The model called through another prediction method (``predict_proba``), or None."""

    def predict_array(self, x: np.ndarray, params: dict[str, Any] | None = None) -> Any:
        """Predict on a 2-D numpy array whose columns are ``input_columns`` in order."""


@dataclasses.dataclass(frozen=True)
class LoadedModel:
    """A Predictor and where it came from (what the response headers and metrics report).

    Attributes:
        predictor: the loaded model.
        uri: the URI the process was asked to serve.
        name: registered model name ("" for a run or a local directory).
        version: registered version, or ``local`` / the run id when there is none.
        run_id: the run that logged the model ("" when unknown).
        model_id: MLflow 3 logged-model id ("" when unknown).
        load_seconds: time spent downloading and loading.
    """

    predictor: Predictor
    uri: str
    name: str
    version: str
    run_id: str
    model_id: str
    load_seconds: float


@dataclasses.dataclass(frozen=True)
class Target:
    """Which registered version a URI points at right now."""

    name: str
    version: str
    run_id: str
    model_id: str


def registered_name(uri: str) -> str:
    """The registered model's name in a ``models:/name/...`` or ``models:/name@alias`` URI.

    "" for anything else: a ``runs:/`` URI, a directory, a logged model's ``models:/m-<id>``.
    """
    if not uri.startswith("models:/") or uri.startswith("models:/m-"):
        return ""
    rest = uri.removeprefix("models:/")
    return rest.split("@", 1)[0] if "@" in rest else rest.split("/", 1)[0]


def is_followable(uri: str) -> bool:
    """True for ``models:/name/Stage`` and ``models:/name@alias`` (targets that can move)."""
    return bool(_FOLLOWABLE.match(uri)) and not uri.startswith("models:/m-")


class ModelSource:
    """Resolves and loads one model URI, through one registry client made on first use.

    Make one per process after fork: the HTTP client's connections must not be shared.
    A model whose loading would unpickle Python objects is refused unless ``allow_pickle``.
    """

    def __init__(
        self, uri: str, tracking_uri: str, *, allow_pickle: bool = False, remote_only: bool = False
    ) -> None:
        self.uri = uri
        self.tracking_uri = tracking_uri
        self.allow_pickle = allow_pickle
        self.remote_only = remote_only
        """Refuse a registry URI whose files resolve to a path on this host though the registry
        is remote (a URI from the network); a directory URI is the caller's to refuse."""
        self._client: Client | None = None

    def _registry(self) -> Client:
        if self._client is None:
            from registry.client import Client

            self._client = Client(self.tracking_uri or None, async_logging=False)
        return self._client

    def close(self) -> None:
        """Close the registry client's connections (it is made again on next use)."""
        client, self._client = self._client, None
        if client is not None:
            client.close()

    def resolve(self) -> Target | None:
        """The version the URI points at now; None for a local directory.

        Raises:
            InvalidParameter: the URI is malformed or names nothing.
            RegistryError: the tracking server is unreachable or answered with an error.
        """
        uri = self.uri
        if _local_dir(uri) is not None:
            return None
        if not uri.startswith(("models:/", "runs:/")):
            raise InvalidParameter(
                f"cannot serve {uri!r}: expected runs:/<run_id>/<path>, models:/<name>/<version>,"
                " models:/<name>/<stage>, models:/<name>@<alias>, models:/m-<id> or a model"
                " directory"
            )
        from registry.client.model_uris import resolve_model_uri

        registry = self._registry()
        resolved = resolve_model_uri(uri, registry)
        if self.remote_only and _is_local_path(resolved.artifact_uri, registry.tracking_uri):
            raise InvalidParameter(
                f"cannot load {uri!r}: its files are at a path on the serving host"
                f" ({resolved.artifact_uri}), and a URI given to a repository load may only"
                " name files the registry serves"
            )
        return Target(
            name=resolved.name or "",
            version=str(resolved.version or ""),
            run_id=resolved.run_id or "",
            model_id=resolved.model_id or "",
        )

    def load(self, target: Target | None = None) -> LoadedModel:
        """Download (when remote) and load the model.

        ``target`` pins the version ``resolve`` found, so a stage that moves between resolving
        and downloading cannot mix two versions.

        Raises:
            InvalidParameter: the URI is malformed, names nothing, is not a loadable model, its
                files do not match the registered digest, or it needs pickle and that is not
                allowed.
            RegistryError: the tracking server is unreachable or answered with an error.
        """
        from registry.models import load_predictor

        started = time.perf_counter()
        local = _local_dir(self.uri)
        if local is not None:
            self._refuse_pickle(local)
            predictor = load_predictor(local, trust_skops_types=self.allow_pickle)
            return _loaded(predictor, self.uri, None, started)
        target = target or self.resolve()
        pinned = target is not None and target.name and target.version
        source = f"models:/{target.name}/{target.version}" if target and pinned else self.uri
        from registry.client.model_uris import download_model

        dst = Path(tempfile.mkdtemp(prefix="model-"))
        try:
            path = download_model(source, dst, client=self._registry())
            self._refuse_pickle(path)
            predictor = load_predictor(path, trust_skops_types=self.allow_pickle)
        except BaseException:
            shutil.rmtree(dst, ignore_errors=True)  # a refused load leaves nothing behind
            raise
        loaded = _loaded(predictor, self.uri, target, started)
        # The download goes once nothing (a slot, a request) holds the model any more; only in
        # the process that downloaded it (a worker may still serve what the master preloaded).
        weakref.finalize(loaded, _remove_download, dst, os.getpid())
        return loaded

    def _refuse_pickle(self, model_dir: Path) -> None:
        from registry.models.digest import pickle_reason
        from registry.models.mlmodel import read_mlmodel

        reason = pickle_reason(read_mlmodel(model_dir))
        if reason is not None and not self.allow_pickle:
            raise InvalidParameter(
                f"not loaded because {reason}, and unpickling runs code from the model files; "
                "save it with skops (sklearn) or xgboost's own format, or set "
                "SERVING_ALLOW_PICKLE=true to trust it"
            )


def _loaded(predictor: Any, uri: str, target: Target | None, started: float) -> LoadedModel:
    metadata = getattr(predictor, "metadata", None)
    run_id = (target.run_id if target else "") or str(getattr(metadata, "run_id", "") or "")
    model_id = (target.model_id if target else "") or str(getattr(metadata, "model_id", "") or "")
    version = (target.version if target else "") or ("local" if target is None else run_id)
    return LoadedModel(
        predictor=predictor,
        uri=uri,
        name=target.name if target else "",
        version=version,
        run_id=run_id,
        model_id=model_id,
        load_seconds=time.perf_counter() - started,
    )


def _remove_download(path: Path, owner_pid: int) -> None:
    if os.getpid() == owner_pid:
        shutil.rmtree(path, ignore_errors=True)
        logger.debug("removed the model download %s", path)


def _is_local_path(artifact_uri: str, tracking_uri: str) -> bool:
    """True when files would be copied from this host's disk, though the registry is remote."""
    if not tracking_uri.startswith(("http://", "https://")):
        return False  # a local registry: its artifacts are on this host by design
    if artifact_uri.startswith("file:") or "://" not in artifact_uri:
        return not artifact_uri.startswith(("runs:", "models:", "mlflow-artifacts:"))
    return False


def _local_dir(uri: str) -> Path | None:
    if uri.startswith(("models:/", "runs:/")) or ("://" in uri and not uri.startswith("file://")):
        return None
    path = Path(uri.removeprefix("file://"))
    if not path.is_dir():
        raise InvalidParameter(f"cannot serve {uri!r}: no such model directory")
    if not (path / "MLmodel").is_file():
        raise InvalidParameter(f"cannot serve {uri!r}: the directory has no MLmodel file")
    return path
