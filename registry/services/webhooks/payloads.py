"""MLflow's webhook body: ``{"entity", "action", "timestamp", "data"}``, and example data.

``data`` is the event's own (``registry.wire.events``: MLflow's payload for MLflow's events).
``timestamp`` is when the event happened (ISO 8601, UTC), so every attempt of a delivery sends
the same bytes; the body is serialised as MLflow does it (``json.dumps`` defaults).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from registry.store.rows import EventRow

_MODEL = "example_model"
EXAMPLES: dict[str, dict[str, Any]] = {
    "registered_model.created": {
        "name": _MODEL,
        "tags": {"example_key": "example_value"},
        "description": "An example registered model",
    },
    "model_version.created": {
        "name": _MODEL,
        "version": "1",
        "source": "models:/123",
        "run_id": "abcd1234abcd5678",
        "tags": {"example_key": "example_value"},
        "description": "An example model version",
    },
    "model_version_tag.set": {
        "name": _MODEL,
        "version": "1",
        "key": "example_key",
        "value": "example_value",
    },
    "model_version_tag.deleted": {"name": _MODEL, "version": "1", "key": "example_key"},
    "model_version_alias.created": {"name": _MODEL, "alias": "example_alias", "version": "1"},
    "model_version_alias.deleted": {"name": _MODEL, "alias": "example_alias"},
    "registered_model.renamed": {"name": _MODEL, "old_name": "old_example_model"},
    "registered_model.updated": {"name": _MODEL, "description": "An example registered model"},
    "registered_model.deleted": {"name": _MODEL},
    "registered_model_tag.set": {"name": _MODEL, "key": "example_key", "value": "example_value"},
    "registered_model_tag.deleted": {"name": _MODEL, "key": "example_key"},
    "model_version.updated": {"name": _MODEL, "version": "1", "description": "An example"},
    "model_version.deleted": {"name": _MODEL, "version": "1"},
    "model_version.stage_changed": {
        "name": _MODEL,
        "version": "1",
        "from_stage": "Staging",
        "to_stage": "Production",
        "comment": "",
    },
}
"""Example ``data`` of each event, sent by the test endpoint (MLflow's own for its events)."""


def example_data(event: str) -> dict[str, Any]:
    """Example ``data`` for ``event`` (a model's name and version where none is listed)."""
    return EXAMPLES.get(event, {"name": _MODEL, "version": "1"})


def body(entity: str, action: str, timestamp_ms: int, data: dict[str, Any]) -> str:
    """The JSON body of a delivery, exactly as signed and sent."""
    when = datetime.fromtimestamp(timestamp_ms / 1000, tz=UTC).isoformat()
    return json.dumps({"entity": entity, "action": action, "timestamp": when, "data": data})


def event_body(event: EventRow) -> str:
    """The body delivering a stored event."""
    return body(event.entity, event.action, event.timestamp, event.data)
