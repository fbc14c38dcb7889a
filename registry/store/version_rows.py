"""Model versions as plain rows: what responses are built from, cheap for long listings."""

from __future__ import annotations

from typing import Any, NamedTuple

import peewee

from registry.store import db
from registry.store.models import ModelVersion, RegisteredModel


class VersionRow(NamedTuple):
    """A version as plain values: what responses are built from (cheap for long listings)."""

    id: int
    registered_model_id: int
    name: str
    version: int
    creation_timestamp: int
    last_updated_timestamp: int
    user_id: str
    current_stage: str
    description: str
    source: str
    run_id: str | None
    run_link: str
    model_id: str | None
    status_message: str


def _row_columns() -> tuple[Any, ...]:
    return (
        ModelVersion.id,
        ModelVersion.registered_model,
        RegisteredModel.name,
        ModelVersion.version,
        ModelVersion.creation_timestamp,
        ModelVersion.last_updated_timestamp,
        ModelVersion.user_id,
        ModelVersion.current_stage,
        ModelVersion.description,
        ModelVersion.source,
        ModelVersion.run_id,
        ModelVersion.run_link,
        ModelVersion.model_id,
        ModelVersion.status_message,
    )


def version_rows(query: peewee.ModelSelect[Any]) -> list[VersionRow]:
    """The versions a query (joined with RegisteredModel) selects, as plain rows."""
    cursor = db.execute(query.select(*_row_columns()))
    return [VersionRow(*values) for values in cursor.fetchall()]


def as_row(version: ModelVersion) -> VersionRow:
    """One loaded version as a plain row (its ``registered_model`` must be loaded)."""
    return VersionRow(
        version.id,
        version.registered_model_id,
        version.registered_model.name,
        version.version,
        version.creation_timestamp,
        version.last_updated_timestamp,
        version.user_id,
        version.current_stage,
        version.description,
        version.source,
        version.run_id,
        version.run_link,
        version.model_id,
        version.status_message,
    )
