"""Creating and deleting model versions: source checks, digests, logged-model links, aliases."""

from __future__ import annotations

import posixpath
from collections.abc import Sequence
from dataclasses import dataclass

from registry.artifacts import ArtifactStore, open_artifact_store
from registry.config import Config
from registry.errors import InvalidParameter
from registry.models.digest import FileEntry, digest_of, stream_entry
from registry.services.sources import (
    has_mlmodel,
    referenced_version_of,
    runs_uri_parts,
    source_store_path,
    validate_run_id,
    validate_source,
)
from registry.store import write_transaction
from registry.store.aliases import aliases_of_version, remove_alias
from registry.store.lineage import add_model_version_to_logged_model, find_logged_model
from registry.store.model_versions import (
    create_model_version,
    delete_version_row,
    get_model_version,
    lock_references,
    set_model_digest,
    version_of,
    versions_without_digest,
)
from registry.store.models import ModelVersion
from registry.store.registered_models import lock_registered_model, now_ms
from registry.store.transitions import ALIAS, STAGE, record_transition

_LOGGED_MODEL_SOURCE = "models:/m-"


def register_version(
    name: str,
    source: str,
    config: Config,
    *,
    run_id: str = "",
    model_id: str = "",
    run_link: str = "",
    description: str = "",
    user_id: str = "",
    tags: Sequence[tuple[str, str]] = (),
    artifacts: ArtifactStore | None = None,
) -> ModelVersion:
    """Create the next version of ``name`` from a source the server controls.

    A ``models:/m-...`` source of a known logged model fills in ``model_id`` and, when absent,
    ``run_id`` (the logged model's source run). A version with a ``model_id`` is appended to
    that logged model's ``mlflow.modelVersions`` tag. The digest of the model directory the
    source names is computed from ``artifacts`` (default: the config's store) and recorded.

    Raises:
        NotFound: no model has that name.
        InvalidParameter: the source or run id is not acceptable.
    """
    if run_id:
        validate_run_id(run_id)
    validate_source(source, run_id or None, config)
    logged_id = model_id or _logged_model_id(source)
    logged = find_logged_model(logged_id) if logged_id else None
    if logged is not None:
        model_id = model_id or str(logged.model_id)
        run_id = run_id or (logged.source_run_id or "")
    digest = source_digest(source, config, artifacts or open_artifact_store(config))
    source_run = runs_uri_parts(source)
    with write_transaction():
        model = lock_registered_model(name)
        lock_references([run_id, source_run[0] if source_run else ""], [model_id])
        version = create_model_version(
            model,
            source=source,
            run_id=run_id,
            model_id=model_id,
            run_link=run_link,
            description=description,
            user_id=user_id,
            tags=tags,
            model_digest=digest,
        )
        if model_id:
            add_model_version_to_logged_model(model_id, name, version.version)
    return version


def source_digest(source: str, config: Config, artifacts: ArtifactStore) -> str | None:
    """The digest of the model directory ``source`` names, read from the artifact store.

    A ``models:/<name>/<ref>`` source takes the recorded digest of the version it names. None
    when the source holds no ``MLmodel`` (nothing to trust yet).
    """
    referenced = referenced_version_of(source)
    if referenced is not None:
        return referenced.model_digest
    path = source_store_path(source, config, artifacts)
    if path is None or not has_mlmodel(artifacts, path):
        return None
    return digest_of(_store_entries(artifacts, path, ""))


def _store_entries(artifacts: ArtifactStore, root: str, relative: str) -> list[FileEntry]:
    entries = []
    for info in artifacts.list(posixpath.join(root, relative) if relative else root):
        child = posixpath.join(relative, info.path) if relative else info.path
        if info.is_dir:
            entries += _store_entries(artifacts, root, child)
        else:
            with artifacts.open(f"{root}/{child}") as stream:
                entries.append(stream_entry(child, stream))
    return entries


def version_digest(name: str, version: int) -> str | None:
    """The digest recorded for a version (None when it has none).

    Raises:
        NotFound: no such model or version.
    """
    digest = get_model_version(name, version).model_digest
    return None if digest is None else str(digest)


@dataclass(frozen=True)
class Backfilled:
    """One version that had no digest, and the one computed now (None: no model files)."""

    name: str
    version: int
    digest: str | None


def backfill_digests(
    config: Config, artifacts: ArtifactStore, dry_run: bool = False
) -> list[Backfilled]:
    """Compute and record the digest of every version that has none, from today's files.

    The operator vouches for the files as they are now: run it only on a store nobody else
    could have written to since the versions were registered.
    """
    done = []
    for found in versions_without_digest():
        digest = source_digest(found.source, config, artifacts)
        if digest is not None and not dry_run:
            set_model_digest(found.id, digest)
        done.append(Backfilled(found.registered_model.name, found.version, digest))
    return done


def _logged_model_id(source: str) -> str:
    if not source.startswith(_LOGGED_MODEL_SOURCE):
        return ""
    return source[len("models:/") :].split("/", 1)[0]


def download_uri(version: ModelVersion) -> str:
    """Where the version's files are: a logged model's artifact URI, else the stored source."""
    logged_id = _logged_model_id(version.source)
    if logged_id:
        logged = find_logged_model(logged_id)
        if logged is not None:
            return str(logged.artifact_uri)
    return str(version.source)


def delete_version(name: str, version: int, user_id: str = "") -> None:
    """Delete a version; aliases that pointed at it are removed; both are recorded.

    The version number is never given out again.

    Raises:
        NotFound: no such model or version.
    """
    with write_transaction():
        model = lock_registered_model(name)
        found = version_of(model, version)
        now = now_ms()
        for alias in aliases_of_version(model.id, version):
            remove_alias(model, alias)
            record_transition(
                model,
                kind=ALIAS,
                alias_name=alias,
                version=version,
                from_value=str(version),
                to_value="",
                user_id=user_id,
                timestamp=now,
                comment=f"version {version} deleted",
            )
        if found.current_stage != "None":
            record_transition(
                model,
                kind=STAGE,
                version=version,
                from_value=found.current_stage,
                to_value="Deleted",
                user_id=user_id,
                timestamp=now,
                comment=f"version {version} deleted",
            )
        delete_version_row(found)


def parse_version(raw: str | int) -> int:
    """A version number from the wire (a string holding a positive integer).

    Raises:
        InvalidParameter: it is not one.
    """
    text = str(raw).strip()
    # isdigit() alone accepts superscripts such as '¹', which int() then refuses.
    if not (text.isascii() and text.isdecimal()) or len(text) > 9 or int(text) < 1:
        raise InvalidParameter(f"Parameter 'version' must be an integer, got {raw!r}.")
    return int(text)
