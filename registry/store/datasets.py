"""Run inputs (datasets and models) and outputs (logged models)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from registry.errors import InvalidParameter
from registry.store import write_transaction
from registry.store.experiments import parse_experiment_id
from registry.store.models import Dataset, Run, RunInput, RunModelInput, RunModelOutput
from registry.store.runs import get_run_row, require_active_run
from registry.store.validation import validate_length, validate_tag


@dataclass(frozen=True)
class DatasetInput:
    """A dataset a run used, with its input tags (e.g. ``mlflow.data.context``)."""

    name: str
    digest: str
    source_type: str
    source: str
    schema: str | None = None
    profile: str | None = None
    tags: dict[str, str] = field(default_factory=dict)


def log_inputs(
    run_id: str, datasets: Sequence[DatasetInput] = (), model_ids: Sequence[str] = ()
) -> None:
    """Link datasets and logged models to an active run; links already there are kept.

    Raises:
        InvalidParameter: a dataset lacks a name or digest, a tag is invalid, or the run is deleted.
        NotFound: no run has this id.
    """
    for dataset in datasets:
        if not dataset.name or not dataset.digest:
            raise InvalidParameter("A dataset input needs a name and a digest.")
        validate_length(dataset.name, 500, "Dataset name")
        validate_length(dataset.digest, 64, "Dataset digest")
        validate_length(dataset.source_type, 64, "Dataset source_type")
        for key, value in dataset.tags.items():
            validate_tag(key, value)
    for model_id in model_ids:
        validate_length(model_id, 64, "model_id")
    with write_transaction():
        require_active_run(run_id)
        experiment_id = Run.select(Run.experiment).where(Run.run_uuid == run_id).scalar()
        for dataset in datasets:
            found = dataset_id(experiment_id, dataset)
            tags = [{"key": k, "value": v} for k, v in dataset.tags.items()]
            RunInput.insert(
                run=run_id, dataset=found, tags_json=json.dumps(tags)
            ).on_conflict_ignore().execute()
        if model_ids:
            RunModelInput.insert_many(
                [{"run": run_id, "model_id": model_id} for model_id in dict.fromkeys(model_ids)]
            ).on_conflict_ignore().execute()


def dataset_id(experiment_id: int, dataset: DatasetInput) -> int:
    """The id of the experiment's dataset (name and digest), inserted when new."""
    Dataset.insert(
        experiment=experiment_id,
        name=dataset.name,
        digest=dataset.digest,
        source_type=dataset.source_type,
        source=dataset.source,
        schema=dataset.schema,
        profile=dataset.profile,
    ).on_conflict_ignore().execute()
    found = (
        Dataset.select(Dataset.id)
        .where(
            Dataset.experiment == experiment_id,
            Dataset.name == dataset.name,
            Dataset.digest == dataset.digest,
        )
        .scalar()
    )
    return int(found)


def log_outputs(run_id: str, models: Sequence[tuple[str, int]]) -> None:
    """Record logged models as outputs of a run at a step (a later call moves the step).

    Raises:
        NotFound: no run has this id.
    """
    for model_id, _step in models:
        validate_length(model_id, 64, "model_id")
    with write_transaction():
        get_run_row(run_id)
        for model_id, step in models:
            updated = (
                RunModelOutput.update(step=step)
                .where(RunModelOutput.run == run_id, RunModelOutput.model_id == model_id)
                .execute()
            )
            if not updated:
                RunModelOutput.insert(
                    run=run_id, model_id=model_id, step=step
                ).on_conflict_ignore().execute()


def dataset_input_tags(run_input: Any) -> list[dict[str, str]]:
    """The input tags of a run's dataset input (anything with ``tags_json``)."""
    tags: list[dict[str, str]] = json.loads(run_input.tags_json or "[]")
    return tags


MAX_DATASET_EXPERIMENTS = 20
"""Experiments one dataset search may name (MLflow's limit)."""
MAX_DATASET_SUMMARIES = 1000
"""Summaries one ``experiments/search-datasets`` answers (MLflow's limit)."""
_CONTEXT_TAG = "mlflow.data.context"


@dataclass(frozen=True)
class DatasetSummary:
    """A dataset some run of an experiment used, and the context it was used in (if tagged)."""

    experiment_id: str
    name: str
    digest: str
    context: str | None


def search_datasets(experiment_ids: Sequence[str | int]) -> list[DatasetSummary]:
    """The distinct (dataset, context) pairs the runs of these experiments logged as inputs.

    A dataset no run used is left out, as in MLflow; at most ``MAX_DATASET_SUMMARIES``.

    Raises:
        InvalidParameter: no experiment id, more than ``MAX_DATASET_EXPERIMENTS``, or one that
            is not an experiment id (MLflow's words).
    """
    if not experiment_ids:
        raise InvalidParameter("SearchDatasets request must specify at least one experiment_id.")
    if len(experiment_ids) > MAX_DATASET_EXPERIMENTS:
        raise InvalidParameter(
            f"SearchDatasets request cannot specify more than {MAX_DATASET_EXPERIMENTS}"
            f" experiment_ids. Received {len(experiment_ids)} experiment_ids."
        )
    ids = [parse_experiment_id(value) for value in experiment_ids]
    query = (
        RunInput.select(Dataset.experiment, Dataset.name, Dataset.digest, RunInput.tags_json)
        .join(Dataset)
        .where(Dataset.experiment.in_(ids))
        .order_by(Dataset.experiment, Dataset.name, Dataset.digest, RunInput.id)
        .tuples()
    )
    found: dict[DatasetSummary, None] = {}
    for experiment_id, name, digest, tags_json in query.iterator():
        context = _context_of(tags_json)
        found[DatasetSummary(str(experiment_id), name, digest, context)] = None
        if len(found) >= MAX_DATASET_SUMMARIES:
            break
    return list(found)


def _context_of(tags_json: str | None) -> str | None:
    tags: list[dict[str, str]] = json.loads(tags_json or "[]")
    return next((t.get("value") for t in tags if t.get("key") == _CONTEXT_TAG), None)
