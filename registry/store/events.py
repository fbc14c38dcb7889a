"""The event stream: one row per registry change, appended in the change's own transaction.

Every registry write (``registered_models``, ``model_versions``, ``aliases``, the stage and
alias services, approvals) calls ``record_event`` inside the transaction that makes the change,
so an event exists exactly when its change committed. Readers follow the stream with a cursor
(``events_after(last_seen_id)``).

Ids are dense and in commit order, on every engine: ``record_event`` takes the next number from
the one-row ``registry_event_sequence`` table with an upsert, which holds that row's lock until
the transaction ends. A transaction that rolls back gives its number back, and no transaction
can commit a smaller id after a larger one is visible, so a reader at cursor ``N`` never skips
an event that commits later. The price is that writers serialise from their first event to their
commit: call ``record_event`` after the change's own row locks (the model row), at the end of
the transaction's work.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any

import peewee as pw

from registry.store import engine_name
from registry.store.models import BaseModel, RegisteredModel
from registry.store.permissions import viewer_restricted, visible_models

MAX_NAME_LENGTH = 256


class EventRow(BaseModel):
    """One registry event: ``entity``.``action`` on a model (and version), with its payload."""

    id = pw.BigIntegerField(primary_key=True)
    entity = pw.CharField(max_length=64)
    action = pw.CharField(max_length=32)
    model_name = pw.CharField(max_length=MAX_NAME_LENGTH)
    model_id = pw.IntegerField(null=True, index=True)
    """The model's row id (permissions are by id; renames keep it); NULL once it is deleted."""
    version = pw.IntegerField(null=True)
    payload = pw.TextField(column_name="data")
    user_id = pw.CharField(max_length=256, default="")
    timestamp = pw.BigIntegerField()

    class Meta:
        table_name = "registry_events"
        indexes = ((("model_name", "id"), False),)

    @property
    def data(self) -> dict[str, Any]:
        """The payload: what MLflow's webhook payload carries for this event, plus ours."""
        value: dict[str, Any] = json.loads(self.payload)
        return value

    @property
    def event_type(self) -> str:
        """``entity.action``, e.g. ``model_version.stage_changed``."""
        return f"{self.entity}.{self.action}"


class EventSequence(BaseModel):
    """The last event id handed out (one row, ``id`` 1); its row lock orders the writers."""

    id = pw.IntegerField(primary_key=True)
    last_id = pw.BigIntegerField()

    class Meta:
        table_name = "registry_event_sequence"


def record_event(
    *,
    entity: str,
    action: str,
    model_name: str,
    version: int | None = None,
    data: Mapping[str, Any],
    user_id: str = "",
    timestamp: int | None = None,
) -> int:
    """Append one event; call it inside the transaction that makes the change. Returns its id.

    Call it after the change has locked its model's row: the sequence row it locks stays locked
    until the transaction ends, so it should be the last lock a transaction takes.
    """
    model_id = (
        RegisteredModel.select(RegisteredModel.id)
        .where(RegisteredModel.name == model_name)
        .scalar()
    )
    event_id = _next_id()
    EventRow.insert(
        id=event_id,
        entity=entity,
        action=action,
        model_name=model_name,
        model_id=model_id,
        version=version,
        payload=json.dumps(dict(data), separators=(",", ":"), sort_keys=True),
        user_id=user_id,
        timestamp=int(time.time() * 1000) if timestamp is None else timestamp,
    ).execute()
    return event_id


def _next_id() -> int:
    # ON CONFLICT / ON DUPLICATE KEY UPDATE both create the row on first use (so a truncated
    # table heals) and lock it until the transaction ends.
    target = None if engine_name() == "mysql" else [EventSequence.id]
    EventSequence.insert(id=1, last_id=1).on_conflict(
        conflict_target=target, update={EventSequence.last_id: EventSequence.last_id + 1}
    ).execute()
    return int(EventSequence.select(EventSequence.last_id).where(EventSequence.id == 1).scalar())


def events_after(
    after_id: int, *, model_name: str | None = None, limit: int = 100
) -> list[EventRow]:
    """Events with id > after_id in id order (optionally of one model)."""
    query = EventRow.select().where(EventRow.id > after_id)
    if model_name is not None:
        query = query.where(EventRow.model_name == model_name)
    return list(query.order_by(EventRow.id).limit(limit))


def readable_events_after(
    after_id: int, *, model_name: str | None = None, limit: int = 100
) -> list[EventRow]:
    """``events_after``, keeping only events of models the request's viewer may read.

    Outside a request restricted to a viewer (no ``--auth``, or an admin) that is every event.
    A deleted model's events (``model_id`` NULL) are for unrestricted readers only: its
    permissions went with it.
    """
    query = EventRow.select().where((EventRow.id > after_id) & visible_models(EventRow.model_id))
    if viewer_restricted():
        query = query.where(EventRow.model_id.is_null(False))
    if model_name is not None:
        query = query.where(EventRow.model_name == model_name)
    return list(query.order_by(EventRow.id).limit(limit))


def has_event_after(after_id: int, *, model_name: str | None = None) -> bool:
    """Whether an event newer than ``after_id`` (of one model) has committed: one index probe."""
    if model_name is None:
        return latest_event_id() > after_id
    query = EventRow.select(EventRow.id).where(
        (EventRow.model_name == model_name) & (EventRow.id > after_id)
    )
    return query.limit(1).scalar() is not None


def forget_model(model_id: int) -> None:
    """Detach a model's events from its id; call it in the transaction that deletes the model.

    A later model may get the same id (SQLite reuses it) and the model's permissions go with
    it, so the events must no longer be judged by that id.
    """
    EventRow.update(model_id=None).where(EventRow.model_id == model_id).execute()


def latest_event_id() -> int:
    """The id of the newest committed event (0 when there is none)."""
    return int(EventRow.select(pw.fn.MAX(EventRow.id)).scalar() or 0)
