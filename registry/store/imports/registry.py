"""Registry writes of an import: registered models, versions (numbers kept), stages, aliases.

A stage or alias found at import gets a history entry with the source's time, and so an event
of the stream (``registry.store.transitions``). A model or version the import creates gets its
``created`` event too (``"imported": true`` in its data, the source's creation time), so the
stream stays complete for followers and webhooks: a replay from its start sees every version
before its stage moves.
Re-importing a model or version that exists records no event for its description or tags.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from registry.errors import AlreadyExists, InvalidParameter
from registry.store import lock_for_update, write_transaction
from registry.store.events import record_event
from registry.store.imports.entities import (
    IMPORT_COMMENT,
    ImportedModelVersion,
    ImportedRegisteredModel,
)
from registry.store.imports.integrity import parents_imported
from registry.store.imports.tracking import replace_tags
from registry.store.model_versions import DELETED as DELETED_VERSION
from registry.store.models import (
    ModelVersion,
    ModelVersionTag,
    RegisteredModel,
    RegisteredModelAlias,
    RegisteredModelTag,
)
from registry.store.transitions import ALIAS, STAGE, record_transition
from registry.wire import events as ev


def read_registered_models(names: Iterable[str]) -> dict[str, ImportedRegisteredModel]:
    """The registered models among ``names`` that the store holds, with tags and aliases."""
    wanted = list(names)
    found: dict[str, ImportedRegisteredModel] = {}
    for start in range(0, len(wanted), 500):
        rows = list(
            RegisteredModel.select().where(RegisteredModel.name.in_(wanted[start : start + 500]))
        )
        ids = [row.id for row in rows]
        tags: dict[int, dict[str, str]] = defaultdict(dict)
        for tag in RegisteredModelTag.select().where(RegisteredModelTag.registered_model.in_(ids)):
            tags[tag.registered_model_id][tag.key] = tag.value
        aliases: dict[int, dict[str, int]] = defaultdict(dict)
        for alias in RegisteredModelAlias.select().where(
            RegisteredModelAlias.registered_model.in_(ids)
        ):
            aliases[alias.registered_model_id][alias.alias_name] = alias.version
        for row in rows:
            found[row.name] = ImportedRegisteredModel(
                row.name,
                row.description,
                row.creation_timestamp,
                row.last_updated_timestamp,
                dict(tags[row.id]),
                dict(aliases[row.id]),
            )
    return found


def import_registered_model(model: ImportedRegisteredModel) -> None:
    """Create or update a registered model (description, times, tags); aliases come later.

    Raises:
        AlreadyExists: a model of this name exists here with another creation time.
    """
    with write_transaction():
        row = RegisteredModel.get_or_none(RegisteredModel.name == model.name)
        if row is None:
            row = RegisteredModel.create(
                name=model.name,
                description=model.description,
                creation_timestamp=model.creation_timestamp,
                last_updated_timestamp=model.last_updated_timestamp,
            )
            data = {
                "name": model.name,
                "tags": dict(model.tags),
                "description": model.description,
                "imported": True,
            }
            record_event(
                entity=ev.REGISTERED_MODEL,
                action=ev.CREATED,
                model_name=model.name,
                data=data,
                timestamp=model.creation_timestamp,
            )
        elif row.creation_timestamp != model.creation_timestamp:
            raise AlreadyExists(
                f"Registered model '{model.name}' already exists here and was not imported."
            )
        else:
            row.description = model.description
            row.last_updated_timestamp = model.last_updated_timestamp
            row.save()
        replace_tags(RegisteredModelTag, RegisteredModelTag.registered_model, row.id, model.tags)


def read_model_versions(name: str) -> dict[int, ImportedModelVersion]:
    """Every version (tombstones included) of model ``name`` held here, by number."""
    query = ModelVersion.select().join(RegisteredModel).where(RegisteredModel.name == name)
    rows = list(query)
    tags: dict[int, dict[str, str]] = defaultdict(dict)
    for tag in ModelVersionTag.select().where(
        ModelVersionTag.model_version.in_([row.id for row in rows])
    ):
        tags[tag.model_version_id][tag.key] = tag.value
    return {
        row.version: ImportedModelVersion(
            name,
            row.version,
            row.description,
            row.user_id,
            row.creation_timestamp,
            row.last_updated_timestamp,
            row.current_stage,
            row.source,
            row.run_id,
            row.run_link,
            row.model_id,
            row.status,
            row.status_message,
            dict(tags[row.id]),
        )
        for row in rows
    }


def import_model_version(version: ImportedModelVersion) -> None:
    """Write one version whole under its own number; a new stage is recorded in the history.

    The stage entry carries the version's last-updated time and ``IMPORT_COMMENT``. Versions
    are imported with the model's ``exclusive_stages`` off, as MLflow allows two holders.
    """
    values = {
        "description": version.description,
        "user_id": version.user_id,
        "creation_timestamp": version.creation_timestamp,
        "last_updated_timestamp": version.last_updated_timestamp,
        "current_stage": version.current_stage,
        "exclusive_stage": None,
        "source": version.source,
        "run_id": version.run_id,
        "run_link": version.run_link,
        "model_id": version.model_id,
        "status": version.status,
        "status_message": version.status_message,
    }
    with parents_imported(f"version {version.version} of '{version.name}'"), write_transaction():
        model = _locked_model(version.name)
        row = ModelVersion.get_or_none(
            (ModelVersion.registered_model == model.id) & (ModelVersion.version == version.version)
        )
        before = "None" if row is None else row.current_stage
        if row is None:
            row = ModelVersion.create(registered_model=model, version=version.version, **values)
            if version.current_stage != DELETED_VERSION:
                _record_version_created(version)
        else:
            ModelVersion.update(**values).where(ModelVersion.id == row.id).execute()
        replace_tags(ModelVersionTag, ModelVersionTag.model_version, row.id, version.tags)
        if version.current_stage not in (before, DELETED_VERSION):
            record_transition(
                model,
                kind=STAGE,
                version=version.version,
                from_value=before,
                to_value=version.current_stage,
                user_id="",
                timestamp=version.last_updated_timestamp,
                comment=IMPORT_COMMENT,
            )


def _record_version_created(version: ImportedModelVersion) -> None:
    data = {
        "name": version.name,
        "version": str(version.version),
        "source": version.source,
        "run_id": version.run_id or None,
        "tags": dict(version.tags),
        "description": version.description or None,
        "imported": True,
    }
    record_event(
        entity=ev.MODEL_VERSION,
        action=ev.CREATED,
        model_name=version.name,
        version=version.version,
        data=data,
        user_id=version.user_id or "",
        timestamp=version.creation_timestamp,
    )


def import_aliases(name: str, aliases: Mapping[str, int], timestamp: int) -> None:
    """Make the model's aliases exactly ``aliases``; each change is recorded in the history.

    Entries carry ``timestamp`` (the model's last-updated time in the source: MLflow keeps no
    time per alias) and ``IMPORT_COMMENT``.
    """
    with parents_imported(f"the aliases of '{name}'"), write_transaction():
        model = _locked_model(name)
        current = {
            row.alias_name: row.version
            for row in RegisteredModelAlias.select().where(
                RegisteredModelAlias.registered_model == model.id
            )
        }
        _check_alias_targets(model, name, aliases)
        for alias in sorted(set(current) | set(aliases)):
            before, after = current.get(alias), aliases.get(alias)
            if before == after:
                continue
            owned = (RegisteredModelAlias.registered_model == model.id) & (
                RegisteredModelAlias.alias_name == alias
            )
            if after is None:
                RegisteredModelAlias.delete().where(owned).execute()
            elif before is None:
                RegisteredModelAlias.create(registered_model=model, alias_name=alias, version=after)
            else:
                RegisteredModelAlias.update(version=after).where(owned).execute()
            record_transition(
                model,
                kind=ALIAS,
                alias_name=alias,
                version=after if after is not None else before,
                from_value="" if before is None else str(before),
                to_value="" if after is None else str(after),
                user_id="",
                timestamp=timestamp,
                comment=IMPORT_COMMENT,
            )
        RegisteredModel.update(last_updated_timestamp=timestamp).where(
            RegisteredModel.id == model.id
        ).execute()


def _locked_model(name: str) -> RegisteredModel:
    """The model row, locked first, as every registry writer does before the event sequence.

    Raises ``DoesNotExist`` (a 400 under ``parents_imported``) when the model is not imported.
    """
    query: Any = RegisteredModel.select().where(RegisteredModel.name == name)
    query = lock_for_update(query)
    return query.get()  # type: ignore[no-any-return]


def _check_alias_targets(model: RegisteredModel, name: str, aliases: Mapping[str, int]) -> None:
    """Refuse an alias to a version this model does not hold (or holds only as a tombstone)."""
    wanted = set(aliases.values())
    held = {
        row.version
        for row in ModelVersion.select(ModelVersion.version).where(
            (ModelVersion.registered_model == model.id)
            & ModelVersion.version.in_(sorted(wanted))
            & (ModelVersion.current_stage != DELETED_VERSION)
        )
    }
    missing = sorted(wanted - held)
    if missing:
        raise InvalidParameter(
            f"Cannot import the aliases of '{name}': version(s)"
            f" {', '.join(map(str, missing))} not imported here (import versions before aliases)."
        )
