"""Full JSON of registered models and versions, loading related rows in a few batched queries."""

from __future__ import annotations

from collections.abc import Sequence

from registry.store.aliases import aliases_by_model
from registry.store.api_reads import model_version_json, registered_model_json
from registry.store.model_versions import latest_versions, tags_by_version
from registry.store.registered_models import tags_by_model
from registry.store.rows import ModelVersion, RegisteredModel
from registry.store.version_rows import VersionRow, as_row
from registry.wire.base import JSON


def describe_models(models: Sequence[RegisteredModel]) -> list[JSON]:
    """RegisteredModel objects with tags, aliases and the newest version per stage."""
    ids = [m.id for m in models]
    tags = tags_by_model(ids)
    aliases = aliases_by_model(ids)
    latest = latest_versions(ids)
    return [
        registered_model_json(m, tags=tags[m.id], aliases=aliases[m.id], latest=latest[m.id])
        for m in models
    ]


def describe_versions(
    versions: Sequence[ModelVersion | VersionRow], *, with_aliases: bool = False
) -> list[JSON]:
    """ModelVersion objects with tags, and their aliases when asked.

    MLflow fills ``aliases`` only on the alias and latest-versions endpoints.
    """
    rows = [v if isinstance(v, VersionRow) else as_row(v) for v in versions]
    tags = tags_by_version(v.id for v in rows)
    aliases: dict[tuple[int, int], list[str]] = {}
    if with_aliases:
        by_model = aliases_by_model({v.registered_model_id for v in rows})
        for model_id, alias_rows in by_model.items():
            for alias in alias_rows:
                aliases.setdefault((model_id, alias.version), []).append(alias.alias_name)
    return [
        model_version_json(
            v, tags.get(v.id, []), aliases.get((v.registered_model_id, v.version), []) or None
        )
        for v in rows
    ]


def latest_of(model: RegisteredModel, stages: Sequence[str] | None) -> list[ModelVersion]:
    """The newest version of ``model`` in each of ``stages`` (every stage for None)."""
    return latest_versions([model.id], stages)[model.id]
