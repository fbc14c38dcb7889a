"""What a run's page shows of the run: params, latest metrics, tags, datasets, logged models."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from registry.store.metrics import logged_value
from registry.store.models import Dataset, LatestMetric, LoggedModel, Param, Run, RunInput, RunTag


@dataclass(frozen=True)
class RunDetail:
    """Everything the run page shows except metric histories and artifacts."""

    run: Run
    params: list[tuple[str, str]]
    metrics: list[tuple[str, float, int, int]]
    tags: list[tuple[str, str]]
    datasets: list[dict[str, Any]]
    logged_models: list[LoggedModel]


def run_detail(run: Run) -> RunDetail:
    """Params, latest metrics (key, value, step, timestamp), tags, datasets and logged models."""
    params = [(p.key, p.value) for p in Param.select().where(Param.run == run).order_by(Param.key)]
    latest = LatestMetric.select().where(LatestMetric.run == run).order_by(LatestMetric.key)
    metrics = [(m.key, logged_value(m.value, m.value_kind), m.step, m.timestamp) for m in latest]
    tags = [(t.key, t.value) for t in RunTag.select().where(RunTag.run == run).order_by(RunTag.key)]
    models = (
        LoggedModel.select()
        .where(LoggedModel.source_run_id == run.run_uuid)
        .order_by(LoggedModel.creation_timestamp_ms)
    )
    return RunDetail(run, params, metrics, tags, run_datasets(run.run_uuid), list(models))


def run_datasets(run_id: str) -> list[dict[str, Any]]:
    """The datasets a run used: name, digest, source, and the context tag of the input."""
    query = (
        RunInput.select(RunInput, Dataset)
        .join(Dataset)
        .where(RunInput.run == run_id)
        .order_by(Dataset.name)
    )
    found = []
    for item in query:
        tags = {t.get("key"): t.get("value") for t in json.loads(item.tags_json or "[]")}
        found.append(
            {
                "name": item.dataset.name,
                "digest": item.dataset.digest,
                "source_type": item.dataset.source_type,
                "source": item.dataset.source,
                "context": tags.get("mlflow.data.context", ""),
            }
        )
    return found
