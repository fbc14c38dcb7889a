"""The transition history: an append-only log of stage changes and alias moves.

Every entry is also an event of the stream (``registry.store.events``), recorded by the same
call in the same transaction: ``model_version.stage_changed`` for a stage entry,
``model_version_alias.created`` or ``.deleted`` for an alias entry, each carrying the entry's
``transition_id``. The history endpoints keep reading this table (rollback walks it); the stream
carries the same moves, in the same order, to followers and webhooks.
"""

from __future__ import annotations

from typing import Any

import peewee

from registry.store.events import record_event
from registry.store.models import RegisteredModel, Transition
from registry.wire import events as ev

STAGE = "stage"
ALIAS = "alias"


def record_transition(
    model: RegisteredModel,
    *,
    kind: str,
    version: int | None,
    from_value: str,
    to_value: str,
    user_id: str,
    timestamp: int,
    alias_name: str | None = None,
    comment: str = "",
    rollback_of: int | None = None,
) -> Transition:
    """Append one entry and its event; call it inside the transaction that makes the change."""
    entry = Transition.create(
        registered_model=model,
        version=version,
        kind=kind,
        alias_name=alias_name,
        from_value=from_value,
        to_value=to_value,
        user_id=user_id,
        timestamp=timestamp,
        comment=comment,
        rollback_of=rollback_of,
    )
    _record_event(model.name, entry)
    return entry


def _record_event(name: str, entry: Transition) -> None:
    extra: dict[str, Any] = {
        "comment": entry.comment,
        "transition_id": int(entry.id),
        "rollback_of": entry.rollback_of,
    }
    data: dict[str, Any]
    if entry.kind == STAGE:
        entity, action = ev.MODEL_VERSION, ev.STAGE_CHANGED
        data = {
            "name": name,
            "version": str(entry.version),
            "from_stage": entry.from_value,
            "to_stage": entry.to_value,
        }
    elif entry.to_value:
        entity, action = ev.MODEL_VERSION_ALIAS, ev.CREATED
        data = {
            "name": name,
            "alias": entry.alias_name,
            "version": entry.to_value,
            "previous_version": entry.from_value or None,
        }
    else:
        entity, action = ev.MODEL_VERSION_ALIAS, ev.DELETED
        data = {"name": name, "alias": entry.alias_name, "version": entry.from_value or None}
    record_event(
        entity=entity,
        action=action,
        model_name=name,
        version=entry.version,
        data={**data, **extra},
        user_id=entry.user_id,
        timestamp=entry.timestamp,
    )


def history_query(
    model: RegisteredModel, version: int | None = None
) -> peewee.ModelSelect[Transition]:
    """A model's entries, newest first (optionally those of one version)."""
    query = Transition.select().where(Transition.registered_model == model.id)
    if version is not None:
        query = query.where(Transition.version == version)
    return query.order_by(Transition.timestamp.desc(), Transition.id.desc())


def history_page(
    model: RegisteredModel, version: int | None, *, offset: int, limit: int
) -> list[Transition]:
    """Up to ``limit`` of a model's entries from ``offset``, newest first (of one version)."""
    return list(history_query(model, version).offset(offset).limit(limit))


def last_entry_id(model: RegisteredModel) -> int:
    """The id of the model's latest recorded entry (0 when it has none)."""
    last = history_query(model).order_by(Transition.id.desc()).first()
    return int(last.id) if last is not None else 0


def entries_after(model: RegisteredModel, entry_id: int) -> list[Transition]:
    """The model's entries recorded after entry ``entry_id``, newest first."""
    return list(history_query(model).where(Transition.id > entry_id))


def stage_entries_until(model: RegisteredModel, at: int) -> list[Transition]:
    """Stage entries of a model up to time ``at`` (inclusive), oldest first."""
    query = Transition.select().where(
        (Transition.registered_model == model.id)
        & (Transition.kind == STAGE)
        & (Transition.timestamp <= at)
    )
    return list(query.order_by(Transition.timestamp, Transition.id))


def last_alias_entry_until(model: RegisteredModel, alias: str, at: int) -> Transition | None:
    """The newest entry of one alias at or before time ``at``."""
    query = Transition.select().where(
        (Transition.registered_model == model.id)
        & (Transition.kind == ALIAS)
        & (Transition.alias_name == alias)
        & (Transition.timestamp <= at)
    )
    return query.order_by(Transition.timestamp.desc(), Transition.id.desc()).first()  # type: ignore[no-any-return]


def undoable_entries(
    model: RegisteredModel, *, stage: str | None = None, alias: str | None = None
) -> list[Transition]:
    """Entries a rollback may undo, newest first: not rollbacks, and not undone already.

    For a stage, the entries that moved a version into it; for an alias, its every move.
    """
    undone = Transition.select(Transition.rollback_of).where(
        (Transition.registered_model == model.id) & Transition.rollback_of.is_null(False)
    )
    query = Transition.select().where(
        (Transition.registered_model == model.id)
        & Transition.rollback_of.is_null()
        & Transition.id.not_in(undone)
    )
    if stage is not None:
        query = query.where((Transition.kind == STAGE) & (Transition.to_value == stage))
    else:
        query = query.where((Transition.kind == ALIAS) & (Transition.alias_name == alias))
    return list(query.order_by(Transition.id.desc()).limit(50))
