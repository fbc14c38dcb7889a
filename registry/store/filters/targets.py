"""Where each searchable key of each entity lives in the schema."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from registry.store.models import (
    Experiment,
    ExperimentTag,
    LatestMetric,
    LoggedModel,
    LoggedModelParam,
    LoggedModelTag,
    ModelVersion,
    ModelVersionTag,
    Param,
    RegisteredModel,
    RegisteredModelTag,
    Run,
    RunTag,
)


@dataclass(frozen=True)
class KeyValues:
    """A key/value side table (params, tags, latest metrics) and its link to the owner row."""

    model: Any
    owner: Any
    """The side table's column holding the owner's id, e.g. ``Param.run``."""


@dataclass(frozen=True)
class Target:
    """The schema behind one entity's search: attribute columns and side tables."""

    model: Any
    id_field: Any
    attributes: dict[str, Any]
    params: KeyValues | None = None
    tags: KeyValues | None = None
    metrics: KeyValues | None = None
    """Latest metric per key with ``value``/``value_kind`` (runs; logged models are special)."""
    missing_tag_is_not_equal: bool = False
    """Registry semantics: ``tags.k != 'v'`` also matches rows without the tag."""
    nullable: frozenset[str] = field(default_factory=frozenset)


RUNS = Target(
    model=Run,
    id_field=Run.run_uuid,
    attributes={
        "run_id": Run.run_uuid,
        "run_name": Run.name,
        "status": Run.status,
        "user_id": Run.user_id,
        "artifact_uri": Run.artifact_uri,
        "start_time": Run.start_time,
        "end_time": Run.end_time,
    },
    params=KeyValues(Param, Param.run),
    tags=KeyValues(RunTag, RunTag.run),
    metrics=KeyValues(LatestMetric, LatestMetric.run),
    nullable=frozenset({"start_time", "end_time"}),
)

EXPERIMENTS = Target(
    model=Experiment,
    id_field=Experiment.experiment_id,
    attributes={
        "name": Experiment.name,
        "experiment_id": Experiment.experiment_id,
        "creation_time": Experiment.creation_time,
        "last_update_time": Experiment.last_update_time,
    },
    tags=KeyValues(ExperimentTag, ExperimentTag.experiment),
)

REGISTERED_MODELS = Target(
    model=RegisteredModel,
    id_field=RegisteredModel.id,
    attributes={
        "name": RegisteredModel.name,
        "creation_timestamp": RegisteredModel.creation_timestamp,
        "last_updated_timestamp": RegisteredModel.last_updated_timestamp,
    },
    tags=KeyValues(RegisteredModelTag, RegisteredModelTag.registered_model),
    missing_tag_is_not_equal=True,
)

MODEL_VERSIONS = Target(
    model=ModelVersion,
    id_field=ModelVersion.id,
    attributes={
        "name": RegisteredModel.name,
        "run_id": ModelVersion.run_id,
        "source_path": ModelVersion.source,
        "version_number": ModelVersion.version,
        "current_stage": ModelVersion.current_stage,
        "creation_timestamp": ModelVersion.creation_timestamp,
        "last_updated_timestamp": ModelVersion.last_updated_timestamp,
    },
    tags=KeyValues(ModelVersionTag, ModelVersionTag.model_version),
    missing_tag_is_not_equal=True,
    nullable=frozenset({"run_id"}),
)

LOGGED_MODELS = Target(
    model=LoggedModel,
    id_field=LoggedModel.model_id,
    attributes={
        "name": LoggedModel.name,
        "model_id": LoggedModel.model_id,
        "model_type": LoggedModel.model_type,
        "status": LoggedModel.status,
        "source_run_id": LoggedModel.source_run_id,
        "creation_timestamp": LoggedModel.creation_timestamp_ms,
        "last_updated_timestamp": LoggedModel.last_updated_timestamp_ms,
    },
    params=KeyValues(LoggedModelParam, LoggedModelParam.model),
    tags=KeyValues(LoggedModelTag, LoggedModelTag.model),
    nullable=frozenset({"source_run_id"}),
)


def side_table(target: Target, kind: str) -> KeyValues:
    """The side table for ``kind`` (``param``, ``tag`` or ``metric``) of ``target``."""
    table = {"param": target.params, "tag": target.tags, "metric": target.metrics}[kind]
    if table is None:
        raise LookupError(f"{target.model.__name__} has no {kind} table")
    return table
