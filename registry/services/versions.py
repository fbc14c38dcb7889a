"""Creating and deleting model versions: source checks, digests, logged-model links, aliases."""

from __future__ import annotations

import posixpath
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace

from registry.artifacts import ArtifactStore, open_artifact_store
from registry.config import Config
from registry.errors import InvalidParameter
from registry.models.digest import digest_of, stream_entry
from registry.services.sources import (
    external_run_location,
    has_mlmodel,
    logged_model_id_of,
    referenced_version_of,
    runs_uri_parts,
    source_store_path,
    validate_run_id,
    validate_source,
)
from registry.store import write_transaction
from registry.store.aliases import aliases_of_version, remove_alias
from registry.store.lineage import add_model_version_to_logged_model, find_logged_model, find_run
from registry.store.model_versions import (
    create_model_version,
    delete_version_row,
    get_model_version,
    lock_references,
    set_model_digest,
    version_of,
    versions_without_digest,
)
from registry.store.registered_models import lock_registered_model, now_ms
from registry.store.rows import ModelVersion
from registry.store.transitions import ALIAS, STAGE, record_transition


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
    source names is computed from ``artifacts`` (default: the config's store) and recorded. A
    ``models:/<name>/<stage|latest>`` or ``models:/<name>@<alias>`` source is stored as the
    ``models:/<name>/<n>`` it names now, the version whose digest is recorded.

    Raises:
        NotFound: no model has that name, or a run or logged model the version references was
            deleted (garbage collected) while it was being registered.
        InvalidParameter: the source or run id is not acceptable, or the source holds more files
            or bytes than a registration hashes (``max_digest_files``, ``max_digest_bytes``).
    """
    if run_id:
        validate_run_id(run_id)
    validate_source(source, run_id or None, config)
    logged_id = model_id or logged_model_id_of(source)
    logged = find_logged_model(logged_id) if logged_id else None
    if logged is not None:
        model_id = model_id or str(logged.model_id)
        run_id = run_id or (logged.source_run_id or "")
    referenced = referenced_version_of(source)
    if referenced is not None:
        source = f"models:/{referenced.registered_model.name}/{referenced.version}"
    source_run = runs_uri_parts(source)
    run_ids = [r for r in {run_id, source_run[0] if source_run else ""} if r and find_run(r)]
    model_ids = [model_id] if logged is not None else []
    digest = source_digest(source, config, artifacts or open_artifact_store(config))
    with write_transaction():
        model = lock_registered_model(name)
        lock_references(run_ids, model_ids)
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


def source_digest(
    source: str, config: Config, artifacts: ArtifactStore, *, capped: bool = True
) -> str | None:
    """The digest of the model directory ``source`` names, read from the artifact store.

    A ``models:/<name>/<ref>`` source takes the recorded digest of the version it names. A
    ``runs:/`` source of a run in an operator-allowed external location is read from there.
    None when the source holds no ``MLmodel`` (nothing to trust yet). ``capped`` applies the
    config's ``max_digest_files`` and ``max_digest_bytes``, checked on the listing before
    anything is read.

    Raises:
        InvalidParameter: ``capped`` and the directory holds more than the caps allow.
    """
    referenced = referenced_version_of(source)
    if referenced is not None:
        return None if referenced.model_digest is None else str(referenced.model_digest)
    external = external_run_location(source, config)
    if external is not None:
        # The run's files are where its artifact_uri says, not in our store: read them there.
        artifacts = open_artifact_store(replace(config, artifact_root=external[0]))
    path = external[1] if external else source_store_path(source, config, artifacts)
    if path is None or not has_mlmodel(artifacts, path):
        return None
    max_files = config.max_digest_files if capped else 0
    files: list[tuple[str, int]] = []
    _list_files(artifacts, path, "", files, max_files)
    if capped:
        _check_caps(source, files, config)
    entries = []
    for child, _ in files:
        with artifacts.open(posixpath.join(path, child)) as stream:
            entries.append(stream_entry(child, stream))
    return digest_of(entries)


def _list_files(
    artifacts: ArtifactStore, root: str, relative: str, files: list[tuple[str, int]], limit: int
) -> None:
    # Stops listing one file past the limit: the count alone decides the refusal.
    for info in artifacts.list(posixpath.join(root, relative)):
        if limit and len(files) > limit:
            return
        child = posixpath.join(relative, info.path)
        if info.is_dir:
            _list_files(artifacts, root, child, files, limit)
        else:
            files.append((child, info.file_size or 0))


def _check_caps(source: str, files: list[tuple[str, int]], config: Config) -> None:
    size = sum(file_size for _, file_size in files)
    for setting, limit, found, unit in (
        ("REGISTRY_MAX_DIGEST_FILES", config.max_digest_files, len(files), "files"),
        ("REGISTRY_MAX_DIGEST_BYTES", config.max_digest_bytes, size, "bytes"),
    ):
        if limit and found > limit:
            raise InvalidParameter(
                f"Model version source {source!r} holds more than {limit} {unit}, the most a "
                f"registration hashes ({setting}); point the source at the model's own folder.",
                limit=limit,
            )


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
    config: Config,
    artifacts: ArtifactStore,
    dry_run: bool = False,
    names: Collection[str] | None = None,
) -> list[Backfilled]:
    """Compute and record the digest of every version that has none, from today's files.

    ``names`` limits it to those registered models (an import vouches only for what it brought).

    The operator vouches for the files as they are now: run it only on a store nobody else
    could have written to since the versions were registered. A version whose ``models:/``
    source names another version without a digest gets one once that version has one, in
    whatever order they come (passes repeat until nothing changes). No size caps apply.
    """
    pending = versions_without_digest()
    if names is not None:
        pending = [v for v in pending if v.registered_model.name in names]
    found: dict[int, str] = {}
    progress = True
    while progress:
        progress = False
        for version in pending:
            if version.id in found:
                continue
            digest = _backfill_digest(version.source, config, artifacts, found)
            if digest is not None:
                found[version.id] = digest
                progress = True
                if not dry_run:
                    set_model_digest(version.id, digest)
    return [Backfilled(v.registered_model.name, v.version, found.get(v.id)) for v in pending]


def _backfill_digest(
    source: str, config: Config, artifacts: ArtifactStore, found: dict[int, str]
) -> str | None:
    referenced = referenced_version_of(source)
    if referenced is not None and referenced.id in found:
        return found[referenced.id]
    return source_digest(source, config, artifacts, capped=False)


def download_uri(version: ModelVersion) -> str:
    """Where the version's files are: a logged model's artifact URI, else the stored source."""
    logged_id = logged_model_id_of(version.source)
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
        delete_version_row(found, model.name, user_id=user_id)


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
