"""Aliases: one name per model pointing at one version (``models:/name@alias``)."""

from __future__ import annotations

from collections.abc import Iterable

from registry.store.model_versions import versions_query
from registry.store.models import ModelVersion, RegisteredModel, RegisteredModelAlias
from registry.store.version_rows import VersionRow, version_rows


def find_alias(model: RegisteredModel, alias: str) -> RegisteredModelAlias | None:
    """The alias row of ``model`` called ``alias``, or None."""
    return RegisteredModelAlias.get_or_none(
        (RegisteredModelAlias.registered_model == model.id)
        & (RegisteredModelAlias.alias_name == alias)
    )


def put_alias(model: RegisteredModel, alias: str, version: int) -> int | None:
    """Point ``alias`` at ``version``; returns the version it pointed at before, if any."""
    existing = find_alias(model, alias)
    if existing is None:
        RegisteredModelAlias.create(registered_model=model, alias_name=alias, version=version)
        return None
    RegisteredModelAlias.update(version=version).where(
        (RegisteredModelAlias.registered_model == model.id)
        & (RegisteredModelAlias.alias_name == alias)
    ).execute()
    return existing.version


def remove_alias(model: RegisteredModel, alias: str) -> int | None:
    """Delete ``alias``; returns the version it pointed at, or None when it did not exist."""
    existing = find_alias(model, alias)
    if existing is None:
        return None
    RegisteredModelAlias.delete().where(
        (RegisteredModelAlias.registered_model == model.id)
        & (RegisteredModelAlias.alias_name == alias)
    ).execute()
    return existing.version


def version_by_alias(name: str, alias: str) -> VersionRow | None:
    """The live version that alias ``alias`` of model ``name`` points at, in one query."""
    query = (
        versions_query()
        .switch(ModelVersion)
        .join(
            RegisteredModelAlias,
            on=(
                (RegisteredModelAlias.registered_model == ModelVersion.registered_model)
                & (RegisteredModelAlias.version == ModelVersion.version)
            ),
        )
        .where((RegisteredModel.name == name) & (RegisteredModelAlias.alias_name == alias))
    )
    rows = version_rows(query)
    return rows[0] if rows else None


def aliases_of_version(model_id: int, version: int) -> list[str]:
    """The alias names pointing at one version, sorted."""
    query = RegisteredModelAlias.select(RegisteredModelAlias.alias_name).where(
        (RegisteredModelAlias.registered_model == model_id)
        & (RegisteredModelAlias.version == version)
    )
    return sorted(row.alias_name for row in query)


def aliases_by_model(model_ids: Iterable[int]) -> dict[int, list[RegisteredModelAlias]]:
    """The aliases of each model id, in one query, sorted by name."""
    ids = list(model_ids)
    found: dict[int, list[RegisteredModelAlias]] = {i: [] for i in ids}
    if not ids:
        return found
    query = RegisteredModelAlias.select().where(RegisteredModelAlias.registered_model.in_(ids))
    for row in query.order_by(RegisteredModelAlias.alias_name):
        found[row.registered_model_id].append(row)
    return found
