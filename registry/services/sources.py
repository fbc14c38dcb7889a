"""Which ``source`` a model version may point at, and where in the artifact store its files are.

A source is never a path the client chose on our disk.

Accepted: ``runs:/<run_id>/<path>``, ``models:/<...>``, ``mlflow-artifacts:/<path>`` (no host), and
a ``file:`` URI or absolute path under the server's own local artifact root (or, for an S3 root,
a URI under that prefix). An operator who sets ``model_version_source_regex`` (MLflow's
``MLFLOW_CREATE_MODEL_VERSION_SOURCE_VALIDATION_REGEX``) requires every source to match it, and
then also gets what MLflow accepts beyond that: other stores' URIs and a run's own local
artifact directory. Everything is checked after percent-decoding once and twice, so
``%2e%2e`` and ``%252e%252e`` are caught as ``..``.
"""

from __future__ import annotations

import posixpath
import re
from pathlib import PurePosixPath
from urllib.parse import unquote, urlsplit

from registry.artifacts import ArtifactStore
from registry.config import Config
from registry.errors import InvalidParameter
from registry.store.aliases import version_by_alias
from registry.store.lineage import find_logged_model, find_run
from registry.store.model_versions import referenced_version, run_logged_model
from registry.store.rows import LoggedModel, ModelVersion
from registry.store.source_uris import after_scheme, registered_model_ref
from registry.store.source_uris import logged_model_id_of as logged_model_id_of
from registry.store.source_uris import runs_uri_parts as runs_uri_parts
from registry.store.validation import in_allowed_locations, path_under_artifact_root

_RUN_ID = re.compile(r"^[0-9A-Za-z][\w\-]{0,31}$")
_SAFE_SCHEMES = ("runs", "models", "mlflow-artifacts")
_EXTERNAL_SCHEMES = ("file", "s3")
_HOST_ADDRESSED_SCHEMES = ("http", "https", "ftp", "sftp")
_DRIVE = re.compile(r"^[A-Za-z]:[\\/]")
MLMODEL = "MLmodel"


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
    _check_regex(source, config)
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
    if path_under_artifact_root(source, config) is not None:
        return
    if config.model_version_source_regex and _accepted_by_regex_rules(source, run_id, scheme):
        return
    raise InvalidParameter(
        f"Invalid model version source {source!r}: use a runs:/, models:/ or mlflow-artifacts:/"
        " URI, or a location under the server's artifact root."
    )


def _check_regex(source: str, config: Config) -> None:
    regex = config.model_version_source_regex
    if regex and not re.search(regex, source):
        raise InvalidParameter(f"Invalid model version source: '{source}'.")


def _accepted_by_regex_rules(source: str, run_id: str | None, scheme: str) -> bool:
    """What MLflow also accepts, once the operator has set the source regex.

    A URI of another store (``s3://other-bucket/...``, ``gs://``...) but not one naming a host
    the server would connect to (http, https, ftp, sftp); a local path only inside the local
    artifact directory of the run ``run_id`` names (MLflow's rule).
    """
    if scheme in _HOST_ADDRESSED_SCHEMES:
        return False
    if scheme not in ("", "file") and not _DRIVE.match(source):
        return True
    run = find_run(run_id) if run_id else None
    run_dir = _local_path(str(run.artifact_uri or "")) if run is not None else None
    path = _local_path(source)
    if run_dir is None or path is None:
        raise InvalidParameter(
            f"Invalid model version source: '{source}'. To use a local path as a model version"
            " source, the run_id request parameter has to be specified and the local path has to"
            " be contained within the artifact directory of the run specified by the run_id."
        )
    return path == run_dir or run_dir in path.parents


def _local_path(location: str) -> PurePosixPath | None:
    """The normalised absolute path of a local path or ``file:`` URI, None for anything else."""
    parts = urlsplit(location)
    if parts.scheme.lower() == "file" and parts.netloc in ("", "localhost"):
        location = unquote(parts.path)
    elif parts.scheme:
        return None
    path = PurePosixPath(posixpath.normpath(location))
    return path if path.is_absolute() else None


def artifact_path_of(uri: str, config: Config) -> str | None:
    """The artifact-store path (relative to the root) that an artifact URI names, or None.

    ``mlflow-artifacts:/<path>``, a ``file:`` URI or absolute path under a local root, and a URI
    under an S3 root are in the store; anything else is not.
    """
    parts = urlsplit(uri)
    if parts.scheme.lower() == "mlflow-artifacts":
        return None if parts.netloc else unquote(parts.path).strip("/")
    return path_under_artifact_root(uri, config)


def referenced_version_of(source: str) -> ModelVersion | None:
    """The version a ``models:/<name>/<ref>`` or ``models:/<name>@<alias>`` source names now."""
    parts = registered_model_ref(source)
    if parts is None:
        return None
    name, ref, alias = parts
    if alias:
        row = version_by_alias(name, alias)
        return None if row is None else referenced_version(name, str(row.version))
    return referenced_version(name, ref) if ref and "/" not in ref else None


def source_store_path(source: str, config: Config, artifacts: ArtifactStore) -> str | None:
    """The artifact-store directory of a ``runs:/``, ``models:/m-...`` or artifact URI source.

    ``runs:/<run>/<path>`` is the run's folder when it holds an ``MLmodel``, else the run's
    logged model called ``<path>``'s first segment, as the client resolves it. None when the
    source names nothing the server stores.
    """
    run_parts = runs_uri_parts(source)
    if run_parts is not None:
        return _run_source(*run_parts, config, artifacts)
    model_id = logged_model_id_of(source)
    if model_id:
        sub = (after_scheme(source, "models") or "").strip("/").partition("/")[2]
        logged = find_logged_model(model_id)
        return None if logged is None else _join(_logged_root(logged, config), sub)
    return artifact_path_of(source, config)


def external_run_location(source: str, config: Config) -> tuple[str, str] | None:
    """``(run artifact URI, path)`` of a ``runs:/`` source whose run lives outside the store.

    Only for a run whose ``artifact_uri`` is a ``file:`` or ``s3:`` URI under a prefix the
    operator allows (``allowed_artifact_locations``): the server reads such a run's files there.
    """
    run_parts = runs_uri_parts(source)
    run = find_run(run_parts[0]) if run_parts else None
    if run is None or run_parts is None:
        return None
    location = str(run.artifact_uri or "")
    scheme = urlsplit(location).scheme.lower()
    if artifact_path_of(location, config) is not None or scheme not in _EXTERNAL_SCHEMES:
        return None
    return (location, run_parts[1]) if in_allowed_locations(location, config) else None


def has_mlmodel(artifacts: ArtifactStore, path: str) -> bool:
    """True when the artifact-store directory ``path`` holds an ``MLmodel`` file."""
    return any(e.path == MLMODEL and not e.is_dir for e in artifacts.list(path))


def _run_source(run_id: str, path: str, config: Config, artifacts: ArtifactStore) -> str | None:
    run = find_run(run_id)
    if run is None:
        return None
    default = f"{run.experiment_id}/{run.run_uuid}/artifacts"
    direct = _join(artifact_path_of(run.artifact_uri, config) or default, path)
    if has_mlmodel(artifacts, direct):
        return direct
    name, _, sub = path.partition("/")
    logged = run_logged_model(run_id, name) if name else None
    return None if logged is None else _join(_logged_root(logged, config), sub)


def _logged_root(logged: LoggedModel, config: Config) -> str:
    default = f"{logged.experiment_id}/models/{logged.model_id}/artifacts"
    return artifact_path_of(str(logged.artifact_uri), config) or default


def _join(root: str, path: str) -> str:
    return "/".join(part for part in (root.strip("/"), path.strip("/")) if part)


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
