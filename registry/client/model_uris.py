"""Model URIs: which files ``runs:/``, ``models:/`` and artifact URIs name, and fetching them.

Forms: ``runs:/<run_id>/<path>``, ``models:/<name>/<version>``, ``models:/<name>/<stage>``,
``models:/<name>/latest``, ``models:/<name>@<alias>``, ``models:/m-<id>``,
``mlflow-artifacts:/<path>`` and local paths (``file://`` or plain).

The files of a registered version are checked against the digest the server recorded when the
version was registered, before the caller gets them (see docs/model-trust.md).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from registry.client.client import Client
from registry.entities import ModelVersion
from registry.errors import ArtifactNotFound, InvalidParameter, InvalidState, NotFound
from registry.models.digest import verify_directory

STAGES = {"none": "None", "staging": "Staging", "production": "Production", "archived": "Archived"}


@dataclass(frozen=True)
class ResolvedModel:
    """Where a model URI points: its registry coordinates (when any) and its files' URI."""

    name: str | None
    version: str | None
    run_id: str | None
    model_id: str | None
    artifact_uri: str


def _local_path(uri: str) -> Path | None:
    if uri.startswith("file://"):
        return Path(uri[len("file://") :])
    if "://" not in uri and not uri.startswith(("runs:", "models:", "mlflow-artifacts:")):
        return Path(uri)
    return None


def resolve_model_uri(uri: str, client: Client) -> ResolvedModel:
    """Resolve a model URI to its version (for ``models:/``) and the URI of its files.

    Raises:
        NotFound: the URI names a run, model, version, stage or alias that does not exist.
        InvalidParameter: the URI is malformed or uses an unknown scheme.
    """
    if uri.startswith("runs:/"):
        return _resolve_run_uri(uri, client)
    if uri.startswith("models:/"):
        return _resolve_models_uri(uri, client)
    if uri.startswith(("mlflow-artifacts:", "http://", "https://")):
        return ResolvedModel(None, None, None, None, uri)
    local = _local_path(uri)
    if local is None:
        raise InvalidParameter(
            f"Unsupported model URI {uri!r}: use runs:/<run_id>/<path>, models:/<name>/<version>,"
            " models:/<name>/<stage>, models:/<name>@<alias>, models:/m-<id>,"
            " mlflow-artifacts:/... or a local path."
        )
    return ResolvedModel(None, None, None, None, str(local))


def _resolve_run_uri(uri: str, client: Client) -> ResolvedModel:
    rest = uri[len("runs:/") :].strip("/")
    run_id, _, path = rest.partition("/")
    if not run_id or not path:
        raise InvalidParameter(f"Model URI {uri!r} must look like runs:/<run_id>/<path>.")
    run = client.get_run(run_id)
    run_root = run.info.artifact_uri.rstrip("/")
    if any(f.path.endswith("MLmodel") for f in client.list_artifact_uri(run_root, path)):
        return ResolvedModel(None, None, run_id, None, f"{run_root}/{path}")
    name, _, sub = path.partition("/")
    models = [
        m
        for m in client.search_logged_models([run.info.experiment_id], f"name = '{name}'")
        if m.source_run_id == run_id
    ]
    if not models:
        raise NotFound(f"Run {run_id} has no model at {path!r} ({uri}).")
    outputs = run.model_outputs
    model = max(models, key=lambda m: (m.model_id in outputs, m.creation_timestamp or 0))
    artifact_uri = model.artifact_uri.rstrip("/") + (f"/{sub}" if sub else "")
    return ResolvedModel(None, None, run_id, model.model_id, artifact_uri)


def _resolve_models_uri(uri: str, client: Client) -> ResolvedModel:
    rest = uri[len("models:/") :].strip("/")
    if "@" in rest and "/" not in rest:
        name, alias = rest.split("@", 1)
        return _from_version(client.get_model_version_by_alias(name, alias), client)
    if "/" not in rest:
        if not rest:
            raise InvalidParameter(f"Model URI {uri!r} names no model.")
        model = client.get_logged_model(rest)
        return ResolvedModel(None, None, model.source_run_id, model.model_id, model.artifact_uri)
    name, _, ref = rest.partition("/")
    if ref.isdigit():
        return _from_version(client.get_model_version(name, ref), client)
    if ref.lower() == "latest":
        versions = client.get_latest_versions(name)
        if not versions:
            raise NotFound(f"Registered model {name!r} has no versions ({uri}).")
        return _from_version(max(versions, key=lambda v: int(v.version)), client)
    stage = STAGES.get(ref.lower())
    if stage is None:
        raise InvalidParameter(
            f"Model URI {uri!r}: {ref!r} is not a version number, 'latest' or a stage "
            f"({', '.join(STAGES.values())})."
        )
    versions = client.get_latest_versions(name, [stage])
    if not versions:
        raise NotFound(f"Registered model {name!r} has no version in stage {stage!r} ({uri}).")
    return _from_version(max(versions, key=lambda v: int(v.version)), client)


def _from_version(mv: ModelVersion, client: Client) -> ResolvedModel:
    artifact_uri = client.get_model_version_download_uri(mv.name, mv.version)
    run_id, model_id = mv.run_id, mv.model_id
    if artifact_uri.startswith(("runs:/", "models:/")):
        inner = resolve_model_uri(artifact_uri, client)
        artifact_uri = inner.artifact_uri
        run_id, model_id = run_id or inner.run_id, model_id or inner.model_id
    return ResolvedModel(mv.name, mv.version, run_id, model_id, artifact_uri)


def download_model(uri: str, dst_dir: Path, client: Client | None = None) -> Path:
    """Fetch the model directory ``uri`` names into ``dst_dir`` and return that directory.

    A local path is copied too, so the caller always owns what it gets. A registered version's
    files must match the digest the server recorded for it; nothing is left in ``dst_dir``
    otherwise.

    Raises:
        NotFound: the URI names nothing, or no ``MLmodel`` is there.
        InvalidParameter: the URI is malformed, or a registered version's files do not match
            its recorded digest.
        InvalidState: the registered version has no recorded digest.
    """
    dst_dir = Path(dst_dir)
    dst_dir.mkdir(parents=True, exist_ok=True)
    local = _local_path(uri)
    if local is not None:
        _fetch(str(local), uri, dst_dir, None)
        return _checked(dst_dir, uri)
    client = client or Client()
    resolved = resolve_model_uri(uri, client)
    if resolved.name is None or resolved.version is None:
        _fetch(resolved.artifact_uri, uri, dst_dir, client)
        return _checked(dst_dir, uri)
    expected = client.get_model_version_digest(resolved.name, resolved.version)
    what = f"model {resolved.name!r} version {resolved.version}"
    if expected is None:
        raise InvalidState(
            f"{what} has no recorded digest (registered before model digests, or with no files "
            "at registration), so its files cannot be trusted; an operator can record one with "
            "`modelyard models digest --backfill`"
        )
    staging = Path(tempfile.mkdtemp(prefix=".download-", dir=dst_dir))
    try:
        _fetch(resolved.artifact_uri, uri, staging, client)
        verify_directory(staging, expected, what)
        _move_into(staging, dst_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return _checked(dst_dir, uri)


def _move_into(staging: Path, dst_dir: Path) -> None:
    for child in staging.iterdir():
        target = dst_dir / child.name
        if child.is_dir() and target.is_dir():
            shutil.copytree(child, target, dirs_exist_ok=True)
        else:
            os.replace(child, target)


def _fetch(artifact_uri: str, uri: str, dst_dir: Path, client: Client | None) -> None:
    local = _local_path(artifact_uri)
    if local is None and client is not None:
        try:
            client.download_artifact_uri(artifact_uri, dst_dir)
        except ArtifactNotFound:
            raise NotFound(f"No model files at {uri} ({artifact_uri}).") from None
        return
    if local is None or not local.exists():
        raise NotFound(f"No model at {str(local or artifact_uri)!r}.")
    shutil.copytree(local, dst_dir, dirs_exist_ok=True)


def _checked(path: Path, uri: str) -> Path:
    if not (path / "MLmodel").is_file():
        raise NotFound(f"{uri} is not a model directory: it holds no MLmodel file.")
    return path
