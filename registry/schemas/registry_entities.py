"""Response shapes of the registry: RegisteredModel, ModelVersion and history entries."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from registry.store.models import (
    ModelVersion,
    ModelVersionTag,
    RegisteredModel,
    RegisteredModelAlias,
    RegisteredModelTag,
    Transition,
)
from registry.store.version_rows import VersionRow, as_row

JSON = dict[str, Any]


def model_version_json(
    version: VersionRow,
    tags: Sequence[ModelVersionTag] = (),
    aliases: Sequence[str] | None = None,
) -> JSON:
    """A ModelVersion as MLflow sends it (``status`` is always ``READY``)."""
    body: JSON = {
        "name": version.name,
        "version": str(version.version),
        "creation_timestamp": version.creation_timestamp,
        "last_updated_timestamp": version.last_updated_timestamp,
        "user_id": version.user_id,
        "current_stage": version.current_stage,
        "description": version.description,
        "source": version.source,
        "run_id": version.run_id or "",
        "status": "READY",
        "run_link": version.run_link,
    }
    if version.status_message:
        body["status_message"] = version.status_message
    if tags:
        body["tags"] = [{"key": t.key, "value": t.value} for t in tags]
    if aliases:
        body["aliases"] = list(aliases)
    if version.model_id:
        body["model_id"] = version.model_id
    return body


def registered_model_json(
    model: RegisteredModel,
    *,
    tags: Sequence[RegisteredModelTag] = (),
    aliases: Sequence[RegisteredModelAlias] = (),
    latest: Sequence[ModelVersion] = (),
) -> JSON:
    """A RegisteredModel as MLflow sends it, plus our ``exclusive_stages`` flag."""
    body: JSON = {
        "name": model.name,
        "creation_timestamp": model.creation_timestamp,
        "last_updated_timestamp": model.last_updated_timestamp,
        "user_id": model.user_id,
    }
    if model.description:
        body["description"] = model.description
    if latest:
        body["latest_versions"] = [model_version_json(as_row(v)) for v in latest]
    if tags:
        body["tags"] = [{"key": t.key, "value": t.value} for t in tags]
    if aliases:
        body["aliases"] = [{"alias": a.alias_name, "version": str(a.version)} for a in aliases]
    body["exclusive_stages"] = bool(model.exclusive_stages)
    return body


def transition_json(entry: Transition, model_name: str) -> JSON:
    """One history entry."""
    body: JSON = {
        "id": str(entry.id),
        "name": model_name,
        "version": None if entry.version is None else str(entry.version),
        "kind": entry.kind,
        "from": entry.from_value,
        "to": entry.to_value,
        "user_id": entry.user_id,
        "timestamp": entry.timestamp,
        "comment": entry.comment,
    }
    if entry.alias_name is not None:
        body["alias"] = entry.alias_name
    if entry.rollback_of is not None:
        body["rollback_of"] = str(entry.rollback_of)
    return body
