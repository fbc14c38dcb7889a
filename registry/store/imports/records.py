"""The imported entities as plain records (dicts of JSON values) and back.

The import endpoints and ``modelyard import mlflow --to http://...`` exchange these records; the
shapes are declared in ``registry.wire.imports``. A run's metric points travel as columns per
key, which is what keeps a long history small and fast to check.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, replace
from typing import Any

from registry.store.datasets import DatasetInput
from registry.store.imports.entities import (
    ImportedExperiment,
    ImportedLoggedModel,
    ImportedModelVersion,
    ImportedRegisteredModel,
    ImportedRun,
    RunSummary,
)
from registry.store.metrics import MetricPoint

Record = dict[str, Any]


def record(entity: Any) -> Record:
    """An experiment, logged model, registered model or model version as a record."""
    return asdict(entity)


def experiment(data: Record) -> ImportedExperiment:
    """The experiment of a record."""
    return ImportedExperiment(**data)


def logged_model(data: Record) -> ImportedLoggedModel:
    """The logged model of a record."""
    return ImportedLoggedModel(**data)


def registered_model(data: Record) -> ImportedRegisteredModel:
    """The registered model of a record."""
    return ImportedRegisteredModel(**data)


def model_version(data: Record) -> ImportedModelVersion:
    """The model version of a record."""
    return ImportedModelVersion(**data)


def summary_record(summary: RunSummary) -> Record:
    """A run summary as a record: ``fields_`` (wire key ``fields``) as a list."""
    data = asdict(summary)
    data["fields_"] = list(data.pop("fields"))
    return data


def summary(data: Record) -> RunSummary:
    """The run summary of a record."""
    return RunSummary(
        tuple(data["fields_"]),
        data["params"],
        data["tags"],
        data["points"],
        data["last_timestamp"],
        data["inputs"],
    )


def run_record(run: ImportedRun, points: Sequence[MetricPoint] | None = None) -> Record:
    """A run as a record, with ``points`` (default: all of its points) as columns per key."""
    series: dict[str, Record] = {}
    for point in run.metrics if points is None else points:
        column = series.get(point.key)
        if column is None:
            column = series[point.key] = {
                "key": point.key, "steps": [], "timestamps": [], "values": [],
                "model_ids": [], "dataset_names": [], "dataset_digests": [],
            }  # fmt: skip
        column["steps"].append(point.step)
        column["timestamps"].append(point.timestamp)
        column["values"].append(point.value)
        column["model_ids"].append(point.model_id)
        column["dataset_names"].append(point.dataset_name)
        column["dataset_digests"].append(point.dataset_digest)
    for column in series.values():
        for name in ("model_ids", "dataset_names", "dataset_digests"):
            if not any(column[name]):
                del column[name]
    data = asdict(replace(run, metrics=(), datasets=(), model_outputs=()))
    data["metrics"] = list(series.values())
    data["datasets"] = [asdict(d) for d in run.datasets]
    data["model_inputs"] = list(run.model_inputs)
    data["model_outputs"] = [{"model_id": m, "step": s} for m, s in run.model_outputs]
    return data


def run(data: Record) -> ImportedRun:
    """The run of a record."""
    points = []
    for column in data["metrics"]:
        size = len(column["steps"])
        empty = [None] * size
        points += [
            MetricPoint(column["key"], value, timestamp, step, model_id, d_name, d_digest)
            for step, timestamp, value, model_id, d_name, d_digest in zip(
                column["steps"],
                column["timestamps"],
                column["values"],
                column.get("model_ids") or empty,
                column.get("dataset_names") or empty,
                column.get("dataset_digests") or empty,
                strict=True,
            )
        ]
    return ImportedRun(
        **{k: v for k, v in data.items() if k not in ("metrics", "datasets", "model_outputs")},
        metrics=points,
        datasets=[DatasetInput(**d) for d in data["datasets"]],
        model_outputs=[(m["model_id"], m["step"]) for m in data["model_outputs"]],
    )
