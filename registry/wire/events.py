"""The registry's event stream: event names and the shapes the stream endpoint answers.

Names follow MLflow's webhook events (``mlflow/webhooks/types.py``, MLflow 3.3+): an event is
``<entity>.<action>`` and its ``data`` is exactly the payload MLflow's webhook carries for it,
plus our own fields where MLflow has none. The events MLflow lacks (renames, deletions, stage
moves, model tags, transition requests) use the same naming.

An alias that moves from one version to another is ``model_version_alias.created``, as MLflow
sends it for every ``set_registered_model_alias``; its ``previous_version`` tells the move from
a new alias (None when the alias is new).
"""

from __future__ import annotations

from typing import Any

from marshmallow import fields, validate

from registry.wire.base import Entity, RequestSchema, ResponseSchema, entity, wire
from registry.wire.fields import Int64

# --- entities ---------------------------------------------------------------------------------

REGISTERED_MODEL = "registered_model"
REGISTERED_MODEL_TAG = "registered_model_tag"
MODEL_VERSION = "model_version"
MODEL_VERSION_TAG = "model_version_tag"
MODEL_VERSION_ALIAS = "model_version_alias"
TRANSITION_REQUEST = "transition_request"

# --- actions ----------------------------------------------------------------------------------

CREATED = "created"
UPDATED = "updated"
DELETED = "deleted"
SET = "set"
RENAMED = "renamed"
STAGE_CHANGED = "stage_changed"
APPROVED = "approved"
REJECTED = "rejected"
CANCELLED = "cancelled"

EVENT_TYPES: tuple[tuple[str, str], ...] = (
    # MLflow's six registry events (payloads exactly MLflow's)
    (REGISTERED_MODEL, CREATED),  # name, tags, description
    (MODEL_VERSION, CREATED),  # name, version, source, run_id, tags, description
    (MODEL_VERSION_TAG, SET),  # name, version, key, value
    (MODEL_VERSION_TAG, DELETED),  # name, version, key
    (MODEL_VERSION_ALIAS, CREATED),  # name, alias, version (+ previous_version)
    (MODEL_VERSION_ALIAS, DELETED),  # name, alias (+ version)
    # ours
    (REGISTERED_MODEL, RENAMED),  # name, old_name
    (REGISTERED_MODEL, UPDATED),  # name, description
    (REGISTERED_MODEL, DELETED),  # name
    (REGISTERED_MODEL_TAG, SET),  # name, key, value
    (REGISTERED_MODEL_TAG, DELETED),  # name, key
    (MODEL_VERSION, UPDATED),  # name, version, description
    (MODEL_VERSION, DELETED),  # name, version
    (MODEL_VERSION, STAGE_CHANGED),  # name, version, from_stage, to_stage, comment, rollback_of
    (TRANSITION_REQUEST, CREATED),  # recorded by the approvals workflow
    (TRANSITION_REQUEST, APPROVED),
    (TRANSITION_REQUEST, REJECTED),
    (TRANSITION_REQUEST, CANCELLED),
)
"""Every ``(entity, action)`` the stream carries."""

EVENT_NAMES: frozenset[str] = frozenset(f"{entity}.{action}" for entity, action in EVENT_TYPES)
"""``entity.action`` of every event, e.g. ``model_version.stage_changed``."""

# --- the stream endpoint (``GET /api/2.0/modelyard/events``) ----------------------------------

MAX_WAIT_SECONDS = 30.0
"""The longest a long-poll waits for a new event before it answers with none."""
MAX_RESULTS = 1000


class EventsRequestSchema(RequestSchema):
    """Ours: events newer than the cursor ``after``, optionally of one model, waiting for one.

    Without ``after`` the answer carries no events and ``next_after`` is the newest id: start
    following from now. ``wait_seconds`` (up to ``MAX_WAIT_SECONDS``) holds the answer until an
    event newer than ``after`` commits, or the time is up (an empty answer).
    """

    after = Int64(load_default=None, validate=validate.Range(min=0, max=2**63 - 1))
    model = fields.String(load_default=None, validate=validate.Length(min=1, max=256))
    max_results = Int64(load_default=100, validate=validate.Range(min=1, max=MAX_RESULTS))
    wait_seconds = fields.Float(
        load_default=0.0, validate=validate.Range(min=0.0, max=MAX_WAIT_SECONDS)
    )


@entity
class Event(Entity):
    """One change of the registry: ``event`` is ``entity.action``; ``data`` its payload."""

    id: int = wire(Int64())
    event: str = wire(fields.String())
    entity: str = wire(fields.String())
    action: str = wire(fields.String())
    model_name: str = wire(fields.String())
    version: str | None = wire(fields.String(), default=None, omit="none")
    data: dict[str, Any] = wire(fields.Dict(), factory=dict)
    user_id: str = wire(fields.String(), default="")
    timestamp: int = wire(Int64(), default=0)


class EventsPageSchema(ResponseSchema):
    """Events in id order, and the cursor to send as ``after`` next time."""

    events = fields.List(fields.Nested(Event.Schema))
    next_after = Int64(
        metadata={"description": "The newest event id this answer covers: the next `after`."}
    )
