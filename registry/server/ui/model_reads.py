"""Read-only queries of the models pages, and reading a version's MLmodel from its artifacts."""

from __future__ import annotations

import json
import posixpath
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, cast

import yaml

from registry.artifacts import ArtifactStore
from registry.errors import ArtifactNotFound, InvalidParameter
from registry.store.aliases import aliases_by_model
from registry.store.model_versions import DELETED, STAGES
from registry.store.models import LoggedModel, ModelVersion, RegisteredModel, Run

EXAMPLE_BYTES = 64 * 1024


@dataclass(frozen=True)
class ModelSummary:
    """A registered model with its version count, stage holders and aliases."""

    model: RegisteredModel
    version_count: int
    latest: int | None
    stages: dict[str, list[int]]
    aliases: dict[str, int]


def model_summaries() -> list[ModelSummary]:
    """Every registered model by name, with what the list page shows about its versions."""
    models = list(RegisteredModel.select().order_by(RegisteredModel.name))
    ids = [m.id for m in models]
    versions: dict[int, list[tuple[int, str]]] = {i: [] for i in ids}
    query = (
        ModelVersion.select(
            ModelVersion.registered_model, ModelVersion.version, ModelVersion.current_stage
        )
        .where(ModelVersion.current_stage != DELETED)
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


def model_versions(model: RegisteredModel) -> list[ModelVersion]:
    """A model's versions, newest first."""
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


def run_names(run_ids: list[str]) -> dict[str, str]:
    """Run names by id (for source-run links)."""
    query = Run.select(Run.run_uuid, Run.name).where(Run.run_uuid.in_(run_ids)).tuples()
    return dict(cast(Iterable[tuple[str, str]], query))


def stage_choices() -> tuple[str, ...]:
    """The stages a version may move to."""
    return STAGES


def model_dir(version: ModelVersion) -> str | None:
    """The artifact-store path of a version's model directory, when the server holds it."""
    source = version.source
    if source.startswith("models:/m-"):
        logged = LoggedModel.get_or_none(LoggedModel.model_id == source[len("models:/") :])
        return _store_path(logged.artifact_uri) if logged is not None else None
    if source.startswith("runs:/"):
        run_id, _, rel = source[len("runs:/") :].partition("/")
        run = Run.get_or_none(Run.run_uuid == run_id)
        root = _store_path(run.artifact_uri) if run is not None else None
        return posixpath.join(root, rel).rstrip("/") if root else None
    return _store_path(source)


def _store_path(uri: str) -> str | None:
    prefix = "mlflow-artifacts:/"
    return uri[len(prefix) :].strip("/") if uri.startswith(prefix) else None


def read_mlmodel(store: ArtifactStore, directory: str | None) -> dict[str, Any]:
    """``flavors``, ``signature`` (inputs/outputs/params as lists) and ``input_example`` text.

    Missing or unreadable files give an empty dict: the page then says there is none.
    """
    if directory is None:
        return {}
    try:
        with store.open(f"{directory}/MLmodel") as stream:
            mlmodel = yaml.safe_load(stream.read()) or {}
    except (ArtifactNotFound, InvalidParameter, yaml.YAMLError):
        return {}
    if not isinstance(mlmodel, dict):
        return {}
    found: dict[str, Any] = {"flavors": sorted((mlmodel.get("flavors") or {}).keys())}
    signature = mlmodel.get("signature") or {}
    found["signature"] = {
        part: _json_list(signature.get(part)) for part in ("inputs", "outputs", "params")
    }
    example = (mlmodel.get("saved_input_example_info") or {}).get("artifact_path")
    if example:
        try:
            with store.open(f"{directory}/{example}") as stream:
                found["input_example"] = stream.read(EXAMPLE_BYTES).decode("utf-8", "replace")
        except (ArtifactNotFound, InvalidParameter):
            pass
    return found


def _json_list(raw: Any) -> list[dict[str, Any]]:
    if not raw:
        return []
    try:
        value = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        return []
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []
