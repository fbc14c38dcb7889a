"""Model versions: numbered 1, 2, 3... per model; read, update, delete, tags, stages."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import peewee

from registry.errors import NotFound
from registry.store import db, lock_for_update, write_transaction
from registry.store.events import record_event
from registry.store.models import (
    LoggedModel,
    ModelVersion,
    ModelVersionTag,
    RegisteredModel,
    Run,
    RunModelOutput,
)
from registry.store.registered_models import lock_registered_model, now_ms, touch_registered_model
from registry.wire import events as ev

STAGES = ("None", "Staging", "Production", "Archived")
EXCLUSIVE_STAGES = ("Staging", "Production")
DELETED = "Deleted_Internal"
"""A deleted version keeps its row in this stage (as in MLflow), so its number is never reused."""
_NUMBERING_ATTEMPTS = 5
_IN_LIMIT = 500


def versions_query() -> peewee.ModelSelect[ModelVersion]:
    """Versions joined with their model (so ``version.registered_model.name`` costs no query)."""
    query = ModelVersion.select(ModelVersion, RegisteredModel).join(RegisteredModel)
    return query.where(ModelVersion.current_stage != DELETED)


def create_model_version(
    model: RegisteredModel,
    *,
    source: str,
    run_id: str | None = None,
    model_id: str | None = None,
    run_link: str = "",
    description: str = "",
    user_id: str = "",
    tags: Sequence[tuple[str, str]] = (),
    model_digest: str | None = None,
) -> ModelVersion:
    """Add the next version (max + 1) to ``model``, whose row the caller has locked."""
    now = now_ms()
    for attempt in range(_NUMBERING_ATTEMPTS):
        number = (
            ModelVersion.select(peewee.fn.MAX(ModelVersion.version))
            .where(ModelVersion.registered_model == model.id)
            .scalar()
            or 0
        ) + 1
        try:
            with db.atomic():
                version = ModelVersion.create(
                    registered_model=model,
                    version=number,
                    description=description,
                    user_id=user_id,
                    creation_timestamp=now,
                    last_updated_timestamp=now,
                    source=source,
                    run_id=run_id or None,
                    run_link=run_link,
                    model_id=model_id or None,
                    model_digest=model_digest,
                )
        except peewee.IntegrityError:
            # The model lock makes this unreachable in practice; the unique index is the
            # last line of defence, so take the next number.
            if attempt == _NUMBERING_ATTEMPTS - 1:
                raise
            continue
        given = dict(tags)
        for key, value in given.items():
            ModelVersionTag.create(model_version=version, key=key, value=value)
        touch_registered_model(model, now)
        data = {
            "name": model.name,
            "version": str(number),
            "source": source,
            "run_id": run_id or None,
            "tags": given,
            "description": description or None,
        }
        _record(ev.MODEL_VERSION, ev.CREATED, model.name, number, data, user_id, now)
        return version
    raise AssertionError("unreachable")


def get_model_version(name: str, version: int) -> ModelVersion:
    """The version ``version`` of model ``name``.

    Raises:
        NotFound: no such model or version.
    """
    found = (
        versions_query()
        .where((RegisteredModel.name == name) & (ModelVersion.version == version))
        .first()
    )
    if found is None:
        raise NotFound(f"Model Version (name={name}, version={version}) not found")
    return found  # type: ignore[no-any-return]


def version_of(model: RegisteredModel, version: int) -> ModelVersion:
    """The version ``version`` of an already loaded model.

    Raises:
        NotFound: the model has no such version.
    """
    found = ModelVersion.get_or_none(
        (ModelVersion.registered_model == model.id)
        & (ModelVersion.version == version)
        & (ModelVersion.current_stage != DELETED)
    )
    if found is None:
        raise NotFound(f"Model Version (name={model.name}, version={version}) not found")
    found.registered_model = model
    return found


def find_version(model: RegisteredModel, version: int) -> ModelVersion | None:
    """The version ``version`` of a loaded model, or None."""
    try:
        return version_of(model, version)
    except NotFound:
        return None


def lock_references(run_ids: Iterable[str], model_ids: Iterable[str]) -> None:
    """Lock the run and logged-model rows a new version will reference, until the transaction ends.

    Garbage collection locks the rows it deletes first, so a version and the deletion of what it
    references are serialised: either gc sees the version, or the rows are gone here and the
    version is refused. Give only ids that existed when the registration started.

    Raises:
        NotFound: one of the runs or logged models no longer exists (gc removed it meanwhile).
    """
    runs = sorted({r for r in run_ids if r})
    models = sorted({m for m in model_ids if m})
    query: Any
    if runs:
        query = Run.select(Run.run_uuid).where(Run.run_uuid.in_(runs))
        rows: list[Any] = list(lock_for_update(query))
        _refuse_missing("Run", runs, {row.run_uuid for row in rows})
    if models:
        query = LoggedModel.select(LoggedModel.model_id).where(LoggedModel.model_id.in_(models))
        rows = list(lock_for_update(query))
        _refuse_missing("Logged model", models, {row.model_id for row in rows})


def _refuse_missing(kind: str, wanted: list[str], locked: set[str]) -> None:
    missing = [i for i in wanted if i not in locked]
    if missing:
        raise NotFound(
            f"{kind} {missing[0]} was permanently deleted (garbage collected) while the model "
            "version was being registered; nothing was registered",
            missing=missing,
        )


def referenced_version(name: str, ref: str) -> ModelVersion | None:
    """The version ``models:/<name>/<ref>`` names now (``ref``: a number, a stage or ``latest``)."""
    query = versions_query().where(RegisteredModel.name == name)
    if ref.isdigit():
        query = query.where(ModelVersion.version == int(ref))
    elif ref.lower() != "latest":
        query = query.where(peewee.fn.LOWER(ModelVersion.current_stage) == ref.lower())
    return query.order_by(ModelVersion.version.desc()).first()  # type: ignore[no-any-return]


def run_logged_model(run_id: str, name: str) -> LoggedModel | None:
    """The logged model a ``runs:/<run_id>/<name>`` source means when the run has no such folder.

    As the client resolves it: among the run's logged models called ``name``, one the run
    recorded as an output first, then the newest.
    """
    found = list(
        LoggedModel.select().where(
            (LoggedModel.source_run_id == run_id) & (LoggedModel.name == name)
        )
    )
    if not found:
        return None
    outputs = {
        row.model_id
        for row in RunModelOutput.select(RunModelOutput.model_id).where(
            RunModelOutput.run == run_id
        )
    }
    return max(found, key=lambda m: (m.model_id in outputs, m.creation_timestamp_ms))


def set_model_digest(version_id: int, digest: str) -> None:
    """Record the digest of a version that has none yet (a digest is never replaced)."""
    ModelVersion.update(model_digest=digest).where(
        (ModelVersion.id == version_id) & ModelVersion.model_digest.is_null()
    ).execute()


def versions_without_digest() -> list[ModelVersion]:
    """Every live version with no recorded digest, by model name then version."""
    query = versions_query().where(ModelVersion.model_digest.is_null())
    return list(query.order_by(RegisteredModel.name, ModelVersion.version))


def update_model_version(
    name: str, version: int, description: str, *, user_id: str = ""
) -> ModelVersion:
    """Replace a version's description.

    Raises:
        NotFound: no such model or version.
    """
    with write_transaction():
        model = lock_registered_model(name)
        found = version_of(model, version)
        found.description = description
        found.last_updated_timestamp = now_ms()
        found.save()
        data = {"name": name, "version": str(version), "description": description}
        _record(ev.MODEL_VERSION, ev.UPDATED, name, version, data, user_id)
    return found


def _record(
    entity: str,
    action: str,
    name: str,
    version: int,
    data: dict[str, Any],
    user_id: str,
    timestamp: int | None = None,
) -> None:
    record_event(
        entity=entity,
        action=action,
        model_name=name,
        version=version,
        data=data,
        user_id=user_id,
        timestamp=timestamp,
    )


def delete_version_row(found: ModelVersion, name: str, *, user_id: str = "") -> None:
    """Delete one version (of model ``name``) and its tags, keeping a tombstone row; record it.

    The caller handles aliases.
    """
    ModelVersionTag.delete().where(ModelVersionTag.model_version == found.id).execute()
    now = now_ms()
    ModelVersion.update(
        current_stage=DELETED, exclusive_stage=None, last_updated_timestamp=now
    ).where(ModelVersion.id == found.id).execute()
    data = {"name": name, "version": str(found.version)}
    _record(ev.MODEL_VERSION, ev.DELETED, name, found.version, data, user_id, now)


def set_version_stage(found: ModelVersion, stage: str, *, exclusive: bool, now: int) -> None:
    """Put a version in ``stage``, keeping ``exclusive_stage`` (the one-holder rule) in step."""
    found.current_stage = stage
    found.exclusive_stage = stage if exclusive and stage in EXCLUSIVE_STAGES else None
    found.last_updated_timestamp = now
    ModelVersion.update(
        current_stage=stage,
        exclusive_stage=found.exclusive_stage,
        last_updated_timestamp=now,
    ).where(ModelVersion.id == found.id).execute()


def sync_exclusive_column(model: RegisteredModel, exclusive: bool) -> None:
    """Set every version's ``exclusive_stage`` to match the model's flag."""
    if exclusive:
        ModelVersion.update(exclusive_stage=ModelVersion.current_stage).where(
            (ModelVersion.registered_model == model.id)
            & ModelVersion.current_stage.in_(EXCLUSIVE_STAGES)
        ).execute()
    else:
        ModelVersion.update(exclusive_stage=None).where(
            ModelVersion.registered_model == model.id
        ).execute()


def versions_in_stage(model: RegisteredModel, stage: str) -> list[ModelVersion]:
    """The versions of ``model`` currently in ``stage``, newest first."""
    query = ModelVersion.select().where(
        (ModelVersion.registered_model == model.id) & (ModelVersion.current_stage == stage)
    )
    found = list(query.order_by(ModelVersion.version.desc()))
    for row in found:
        row.registered_model = model
    return found


def latest_versions(
    model_ids: Sequence[int], stages: Sequence[str] | None = None
) -> dict[int, list[ModelVersion]]:
    """The newest version per stage of each model (optionally only of ``stages``)."""
    found: dict[int, list[ModelVersion]] = {i: [] for i in model_ids}
    if not model_ids:
        return found
    newest = (
        ModelVersion.select(
            ModelVersion.registered_model,
            ModelVersion.current_stage,
            peewee.fn.MAX(ModelVersion.version).alias("top"),
        )
        .where(
            ModelVersion.registered_model.in_(list(model_ids))
            & (ModelVersion.current_stage != DELETED)
        )
        .group_by(ModelVersion.registered_model, ModelVersion.current_stage)
    )
    if stages is not None:
        newest = newest.where(ModelVersion.current_stage.in_(list(stages)))
    newest = newest.alias("newest")
    query = (
        versions_query()
        .join(
            newest,
            on=(
                (ModelVersion.registered_model == newest.c.registered_model_id)
                & (ModelVersion.version == newest.c.top)
            ),
        )
        .order_by(ModelVersion.version)
    )
    for row in query:
        found[row.registered_model_id].append(row)
    return found


def versions_for_run(run_id: str) -> list[ModelVersion]:
    """Every version registered from run ``run_id``, by model name then version."""
    query = versions_query().where(ModelVersion.run_id == run_id)
    return list(query.order_by(RegisteredModel.name, ModelVersion.version))


def tags_by_version(version_ids: Iterable[int]) -> dict[int, list[ModelVersionTag]]:
    """The tags of the versions that have any, keyed by version id, in one query.

    Long id lists are read as one id range and filtered here, which keeps the statement small.
    """
    ids = set(version_ids)
    found: dict[int, list[ModelVersionTag]] = {}
    if not ids:
        return found
    column = ModelVersionTag.model_version
    small = len(ids) <= _IN_LIMIT
    where = column.in_(list(ids)) if small else column.between(min(ids), max(ids))
    for tag in ModelVersionTag.select().where(where).order_by(ModelVersionTag.key):
        if tag.model_version_id in ids:
            found.setdefault(tag.model_version_id, []).append(tag)
    return found


def set_model_version_tag(
    name: str, version: int, key: str, value: str, *, user_id: str = ""
) -> None:
    """Set (or overwrite) a tag on a version.

    Raises:
        NotFound: no such model or version.
    """
    with write_transaction():
        found = version_of(lock_registered_model(name), version)
        query = ModelVersionTag.update(value=value).where(
            (ModelVersionTag.model_version == found.id) & (ModelVersionTag.key == key)
        )
        if not query.execute():
            ModelVersionTag.create(model_version=found, key=key, value=value)
        data = {"name": name, "version": str(version), "key": key, "value": value}
        _record(ev.MODEL_VERSION_TAG, ev.SET, name, version, data, user_id)


def delete_model_version_tag(name: str, version: int, key: str, *, user_id: str = "") -> None:
    """Remove a tag from a version.

    Raises:
        NotFound: no such model, version or tag.
    """
    with write_transaction():
        found = version_of(lock_registered_model(name), version)
        deleted = (
            ModelVersionTag.delete()
            .where((ModelVersionTag.model_version == found.id) & (ModelVersionTag.key == key))
            .execute()
        )
        if deleted:
            data = {"name": name, "version": str(version), "key": key}
            _record(ev.MODEL_VERSION_TAG, ev.DELETED, name, version, data, user_id)
    if not deleted:
        raise NotFound(f"No tag with name: {key} in model version {name} version {version}.")
