"""Registered models and their versions as the web UI lists them.

Lists keep only the models the request's user may read (``visible_models``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import cast

from registry.store.aliases import aliases_by_model
from registry.store.model_versions import DELETED
from registry.store.models import ModelVersion, RegisteredModel
from registry.store.permissions import visible_models


@dataclass(frozen=True)
class ModelSummary:
    """A registered model with its version count, stage holders and aliases."""

    model: RegisteredModel
    version_count: int
    latest: int | None
    stages: dict[str, list[int]]
    aliases: dict[str, int]


def model_summaries() -> list[ModelSummary]:
    """The registered models the user may read, by name, with their versions' stages."""
    visible = visible_models(RegisteredModel.id)
    models = list(RegisteredModel.select().where(visible).order_by(RegisteredModel.name))
    ids = [m.id for m in models]
    versions: dict[int, list[tuple[int, str]]] = {i: [] for i in ids}
    query = (
        ModelVersion.select(
            ModelVersion.registered_model, ModelVersion.version, ModelVersion.current_stage
        )
        .where(ModelVersion.current_stage != DELETED, visible_models(ModelVersion.registered_model))
        .tuples()
    )
    for model_id, number, stage in cast(Iterable[tuple[int, int, str]], query):
        versions.setdefault(model_id, []).append((number, stage))
    aliases = aliases_by_model(ids)
    summaries = []
    for model in models:
        mine = versions.get(model.id, [])
        stages = {
            stage: sorted(n for n, s in mine if s == stage) for stage in ("Production", "Staging")
        }
        summaries.append(
            ModelSummary(
                model,
                len(mine),
                max((n for n, _ in mine), default=None),
                stages,
                {a.alias_name: a.version for a in aliases[model.id]},
            )
        )
    return summaries


def listed_versions(model: RegisteredModel) -> list[ModelVersion]:
    """A model's versions (not deleted ones), newest first."""
    query = ModelVersion.select().where(
        (ModelVersion.registered_model == model.id) & (ModelVersion.current_stage != DELETED)
    )
    return list(query.order_by(ModelVersion.version.desc()))


def version_aliases(model: RegisteredModel) -> dict[int, list[str]]:
    """The aliases of each version of a model."""
    found: dict[int, list[str]] = {}
    for alias in aliases_by_model([model.id])[model.id]:
        found.setdefault(alias.version, []).append(alias.alias_name)
    return found


def model_names() -> list[str]:
    """Names of the registered models the user may read (for the register form's suggestions)."""
    query = RegisteredModel.select(RegisteredModel.name).where(visible_models(RegisteredModel.id))
    return [m.name for m in query.order_by(RegisteredModel.name)]
