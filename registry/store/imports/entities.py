"""What an import writes: the source's experiments, runs, logged models and registry rows.

Ids and times are the source's own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from registry.store.datasets import DatasetInput
from registry.store.metrics import MetricPoint

DEFAULT_EXPERIMENT_ID = 0
IMPORT_COMMENT = "imported from MLflow"
"""The comment of the history entries that record a stage or alias found at import."""


@dataclass(frozen=True)
class ImportedExperiment:
    """An experiment as the source holds it."""

    experiment_id: int
    name: str
    artifact_location: str
    lifecycle_stage: str
    creation_time: int
    last_update_time: int
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RunSummary:
    """What decides whether a run changed: its row, params, tags and the size of its history.

    MLflow's metric history is append-only, so the number of points and the newest timestamp
    change whenever a point is added.
    """

    fields: tuple[Any, ...]
    params: dict[str, str]
    tags: dict[str, str]
    points: int
    last_timestamp: int | None
    inputs: int


@dataclass(frozen=True)
class ImportedRun:
    """A run with everything that lands with it."""

    run_id: str
    experiment_id: int
    name: str
    user_id: str
    status: str
    start_time: int | None
    end_time: int | None
    lifecycle_stage: str
    artifact_uri: str
    deleted_time: int | None
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    metrics: Sequence[MetricPoint] = ()
    datasets: Sequence[DatasetInput] = ()
    model_inputs: Sequence[str] = ()
    model_outputs: Sequence[tuple[str, int]] = ()

    def row_fields(self) -> tuple[Any, ...]:
        """The run row's own values, in ``RunSummary.fields`` order."""
        return (
            self.experiment_id,
            self.name,
            self.user_id,
            self.status,
            self.start_time,
            self.end_time,
            self.lifecycle_stage,
            self.deleted_time,
        )


@dataclass(frozen=True)
class ImportedLoggedModel:
    """An MLflow 3 logged model with its params and tags."""

    model_id: str
    experiment_id: int
    name: str
    model_type: str
    source_run_id: str | None
    status: str
    status_message: str
    artifact_uri: str
    lifecycle_stage: str
    creation_timestamp_ms: int
    last_updated_timestamp_ms: int
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ImportedRegisteredModel:
    """A registered model with its tags and aliases (alias -> version)."""

    name: str
    description: str
    creation_timestamp: int
    last_updated_timestamp: int
    tags: dict[str, str] = field(default_factory=dict)
    aliases: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class ImportedModelVersion:
    """A model version, kept under its own number (deleted ones as tombstones)."""

    name: str
    version: int
    description: str
    user_id: str
    creation_timestamp: int
    last_updated_timestamp: int
    current_stage: str
    source: str
    run_id: str | None
    run_link: str
    model_id: str | None
    status: str
    status_message: str
    tags: dict[str, str] = field(default_factory=dict)
