"""Read-only queries of the models pages, and reading a version's MLmodel from its artifacts.

Lists keep only the models and runs the request's user may read (the store's visibility filters).
"""

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
from registry.store.models import Experiment, LoggedModel, ModelVersion, RegisteredModel, Run
from registry.store.permissions import visible_experiments, visible_models

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
    """Names by id of the runs the user may read (for source-run links)."""
    query = Run.select(Run.run_uuid, Run.name).where(
        Run.run_uuid.in_(run_ids), visible_experiments(Run.experiment)
    )
    return dict(cast(Iterable[tuple[str, str]], query.tuples()))


def model_names() -> list[str]:
    """Names of the registered models the user may read (for the register form's suggestions)."""
    query = RegisteredModel.select(RegisteredModel.name).where(visible_models(RegisteredModel.id))
    return [m.name for m in query.order_by(RegisteredModel.name)]


def visible_lineage(lineage: dict[str, Any]) -> dict[str, Any]:
    """``lineage`` without the run or logged model of an experiment the user may not read."""
    shown = dict(lineage)
    experiment_ids = {
        int(part["experiment_id"])
        for part in (lineage.get("run"), lineage.get("logged_model"))
        if part and str(part.get("experiment_id", "")).isdigit()
    }
    query = Experiment.select(Experiment.experiment_id).where(
        Experiment.experiment_id.in_(list(experiment_ids)),
        visible_experiments(Experiment.experiment_id),
    )
    readable = {experiment.experiment_id for experiment in query}
    for part, details in (
        ("run", ("run", "git_commit", "source_name", "user")),
        ("logged_model", ("logged_model",)),
    ):
        found = lineage.get(part)
        if found and int(found.get("experiment_id", -1)) not in readable:
            for key in details:
                shown.pop(key, None)
    return shown


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
