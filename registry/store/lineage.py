"""Read-only queries over the tracking tables that a model version's lineage needs."""

from __future__ import annotations

import json

from registry.store.models import (
    Dataset,
    LatestMetric,
    LoggedModel,
    LoggedModelTag,
    Param,
    Run,
    RunInput,
    RunTag,
)

MODEL_VERSIONS_TAG = "mlflow.modelVersions"


def find_run(run_id: str) -> Run | None:
    """The run with id ``run_id``, or None."""
    return Run.get_or_none(Run.run_uuid == run_id)


def run_params(run: Run) -> list[Param]:
    """A run's params, by key."""
    return list(Param.select().where(Param.run == run.run_uuid).order_by(Param.key))


def run_tags(run: Run) -> list[RunTag]:
    """A run's tags, by key."""
    return list(RunTag.select().where(RunTag.run == run.run_uuid).order_by(RunTag.key))


def run_latest_metrics(run: Run) -> list[LatestMetric]:
    """The latest value of each of a run's metrics, by key."""
    query = LatestMetric.select().where(LatestMetric.run == run.run_uuid)
    return list(query.order_by(LatestMetric.key))


def run_dataset_inputs(run: Run) -> list[tuple[Dataset, list[dict[str, str]]]]:
    """The datasets a run used, each with its input tags (e.g. ``mlflow.data.context``)."""
    query = (
        RunInput.select(RunInput, Dataset)
        .join(Dataset)
        .where(RunInput.run == run.run_uuid)
        .order_by(RunInput.id)
    )
    return [(row.dataset, json.loads(row.tags_json or "[]")) for row in query]


def find_logged_model(model_id: str) -> LoggedModel | None:
    """The logged model ``model_id``, or None."""
    return LoggedModel.get_or_none(LoggedModel.model_id == model_id)


def logged_model_tags(model: LoggedModel) -> list[LoggedModelTag]:
    """A logged model's tags, by key."""
    query = LoggedModelTag.select().where(LoggedModelTag.model == model.model_id)
    return list(query.order_by(LoggedModelTag.key))


def add_model_version_to_logged_model(model_id: str, name: str, version: int) -> None:
    """Append ``{name, version}`` to the logged model's ``mlflow.modelVersions`` tag.

    This is what MLflow's server writes when a version is created from a logged model. Nothing
    happens when the logged model does not exist.
    """
    if find_logged_model(model_id) is None:
        return
    where = (LoggedModelTag.model == model_id) & (LoggedModelTag.key == MODEL_VERSIONS_TAG)
    existing = LoggedModelTag.get_or_none(where)
    entries: list[object] = []
    if existing is not None:
        try:
            loaded = json.loads(existing.value)
        except ValueError:
            loaded = []
        entries = loaded if isinstance(loaded, list) else []
    entries.append({"name": name, "version": version})
    value = json.dumps(entries)
    if existing is None:
        LoggedModelTag.create(model=model_id, key=MODEL_VERSIONS_TAG, value=value)
    else:
        LoggedModelTag.update(value=value).where(where).execute()
