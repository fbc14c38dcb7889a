"""Tracking writes of an import: experiments, runs with their history, logged models."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import peewee

from registry.errors import AlreadyExists
from registry.store import db, engine_name, write_transaction
from registry.store.datasets import DatasetInput, dataset_id
from registry.store.imports.entities import (
    DEFAULT_EXPERIMENT_ID,
    ImportedExperiment,
    ImportedLoggedModel,
    ImportedRun,
    RunSummary,
)
from registry.store.imports.integrity import parents_imported, values_fit
from registry.store.metrics import MetricPoint, insert_points
from registry.store.models import (
    DELETED,
    Dataset,
    Experiment,
    ExperimentTag,
    LatestMetric,
    LoggedModel,
    LoggedModelParam,
    LoggedModelTag,
    MetricHistory,
    Param,
    Run,
    RunInput,
    RunModelInput,
    RunModelOutput,
    RunTag,
)
from registry.store.upserts import upsert_key_values, upsert_rows


def read_experiments() -> dict[int, ImportedExperiment]:
    """Every experiment of the store with its tags, in the import's terms."""
    tags: dict[int, dict[str, str]] = defaultdict(dict)
    for tag in ExperimentTag.select():
        tags[tag.experiment_id][tag.key] = tag.value
    return {
        row.experiment_id: ImportedExperiment(
            row.experiment_id,
            row.name,
            row.artifact_location,
            row.lifecycle_stage,
            row.creation_time,
            row.last_update_time,
            dict(tags[row.experiment_id]),
        )
        for row in Experiment.select()
    }


def import_experiment(experiment: ImportedExperiment) -> None:
    """Create or update an experiment under the source's id, with exactly the source's tags.

    An existing experiment with this id is the same one when its creation time matches (the
    Default experiment, id 0, always is).

    Raises:
        AlreadyExists: another experiment holds this id or this name.
    """
    values = {
        "name": experiment.name,
        "artifact_location": experiment.artifact_location,
        "lifecycle_stage": experiment.lifecycle_stage,
        "creation_time": experiment.creation_time,
        "last_update_time": experiment.last_update_time,
        "deleted_time": experiment.last_update_time
        if experiment.lifecycle_stage == DELETED
        else None,
    }
    try:
        with values_fit(f"experiment {experiment.experiment_id}"), write_transaction():
            found = Experiment.get_or_none(Experiment.experiment_id == experiment.experiment_id)
            if found is None:
                Experiment.insert(experiment_id=experiment.experiment_id, **values).execute()
            elif (
                experiment.experiment_id == DEFAULT_EXPERIMENT_ID
                or found.creation_time == experiment.creation_time
            ):
                Experiment.update(**values).where(
                    Experiment.experiment_id == experiment.experiment_id
                ).execute()
            else:
                raise AlreadyExists(
                    f"Experiment id {experiment.experiment_id} is already used here by"
                    f" '{found.name}', a different experiment."
                )
            replace_tags(
                ExperimentTag, ExperimentTag.experiment, experiment.experiment_id, experiment.tags
            )
    except peewee.IntegrityError:
        raise AlreadyExists(
            f"Experiment name '{experiment.name}' is already used here by another experiment."
        ) from None


def sync_experiment_ids() -> None:
    """Move PostgreSQL's id sequence past imported ids (SQLite and MySQL follow the max)."""
    if engine_name() == "postgresql":
        db.execute_sql(
            "SELECT setval(pg_get_serial_sequence('experiments', 'experiment_id'),"
            " GREATEST((SELECT MAX(experiment_id) FROM experiments), 1))"
        )


def run_summaries(run_ids: Sequence[str]) -> dict[str, RunSummary]:
    """The summary of each of ``run_ids`` present in the store."""
    found: dict[str, RunSummary] = {}
    for start in range(0, len(run_ids), 500):
        found.update(_summaries(list(run_ids[start : start + 500])))
    return found


def _summaries(ids: list[str]) -> dict[str, RunSummary]:
    params = _key_values(Param, Param.run, ids)
    tags = _key_values(RunTag, RunTag.run, ids)
    counted = MetricHistory.select(
        MetricHistory.run, peewee.fn.COUNT(peewee.SQL("*")), peewee.fn.MAX(MetricHistory.timestamp)
    )
    history = {
        run_id: (count, last)
        for run_id, count, last in _tuples(
            counted.where(MetricHistory.run.in_(ids)).group_by(MetricHistory.run)
        )
    }
    inputs: dict[str, int] = defaultdict(int)
    for table, column in (
        (RunInput, RunInput.run),
        (RunModelInput, RunModelInput.run),
        (RunModelOutput, RunModelOutput.run),
    ):
        query = table.select(column, peewee.fn.COUNT(column)).where(column.in_(ids))
        for run_id, count in _tuples(query.group_by(column)):
            inputs[run_id] += count
    summaries = {}
    for run in Run.select().where(Run.run_uuid.in_(ids)):
        count, last = history.get(run.run_uuid, (0, None))
        fields = (
            run.experiment_id,
            run.name,
            run.user_id,
            run.status,
            run.start_time,
            run.end_time,
            run.lifecycle_stage,
            run.deleted_time,
        )
        summaries[run.run_uuid] = RunSummary(
            fields,
            params.get(run.run_uuid, {}),
            tags.get(run.run_uuid, {}),
            count,
            last,
            inputs[run.run_uuid],
        )
    return summaries


def _key_values(model: Any, owner: Any, ids: list[str]) -> dict[str, dict[str, str]]:
    found: dict[str, dict[str, str]] = defaultdict(dict)
    for owner_id, key, value in (
        model.select(owner, model.key, model.value).where(owner.in_(ids)).tuples()
    ):
        found[owner_id][key] = value
    return found


def _tuples(query: Any) -> list[tuple[Any, ...]]:
    return list(query.tuples())


def import_runs(runs: Sequence[ImportedRun]) -> None:
    """Write runs whole, in one transaction: rows, params, tags, histories and inputs.

    Metric points already stored are not stored twice; tags the source no longer has are
    removed. The runs' experiments must already be imported. All the runs land, or none.
    """
    with parents_imported("runs"), write_transaction():
        for run in runs:
            _write_run(run)


def _write_run(run: ImportedRun) -> None:
    values = {
        "experiment": run.experiment_id,
        "name": run.name,
        "user_id": run.user_id,
        "status": run.status,
        "start_time": run.start_time,
        "end_time": run.end_time,
        "lifecycle_stage": run.lifecycle_stage,
        "artifact_uri": run.artifact_uri,
        "deleted_time": run.deleted_time,
    }
    upsert_rows(
        Run, [{"run_uuid": run.run_id, **values}], key=(Run.run_uuid,), update=_fields(Run, values)
    )
    upsert_key_values(Param, Param.run, run.run_id, run.params)
    replace_tags(RunTag, RunTag.run, run.run_id, run.tags)
    # Latest values written before carry the run's experiment: follow it if the source moved it.
    LatestMetric.update(experiment_id=run.experiment_id).where(
        LatestMetric.run == run.run_id, LatestMetric.experiment_id != run.experiment_id
    ).execute()
    if run.metrics:
        # Rows, not packed batches: an import writes a run's points again each time it runs.
        insert_points(run.run_id, run.experiment_id, run.metrics, pack=False)
    for dataset in run.datasets:
        _link_dataset(run, dataset)
    if run.model_inputs:
        RunModelInput.insert_many(
            [{"run": run.run_id, "model_id": m} for m in dict.fromkeys(run.model_inputs)]
        ).on_conflict_ignore().execute()
    outputs = [
        {"run": run.run_id, "model_id": model_id, "step": step}
        for model_id, step in dict(run.model_outputs).items()  # the last step of a model wins
    ]
    upsert_rows(
        RunModelOutput,
        outputs,
        key=(RunModelOutput.run, RunModelOutput.model_id),
        update=(RunModelOutput.step,),
    )


def _fields(model: Any, values: dict[str, Any]) -> list[peewee.Field]:
    return [getattr(model, name) for name in values]


def _link_dataset(run: ImportedRun, dataset: DatasetInput) -> None:
    found = dataset_id(run.experiment_id, dataset)
    tags = json.dumps([{"key": k, "value": v} for k, v in dataset.tags.items()])
    RunInput.insert(run=run.run_id, dataset=found, tags_json=tags).on_conflict_ignore().execute()


def replace_tags(
    model: Any, owner: peewee.ForeignKeyField, owner_id: Any, tags: dict[str, str]
) -> None:
    """Make the owner's tags exactly ``tags``: drop the others, upsert these."""
    stale = model.delete().where(owner == owner_id)
    if tags:
        stale = stale.where(model.key.not_in(list(tags)))
    stale.execute()
    upsert_key_values(model, owner, owner_id, tags)


def read_logged_models(model_ids: Sequence[str]) -> dict[str, ImportedLoggedModel]:
    """The logged models among ``model_ids`` that the store holds, with params and tags."""
    ids = list(model_ids)
    params = _key_values(LoggedModelParam, LoggedModelParam.model, ids)
    tags = _key_values(LoggedModelTag, LoggedModelTag.model, ids)
    return {
        row.model_id: ImportedLoggedModel(
            row.model_id,
            row.experiment_id,
            row.name,
            row.model_type,
            row.source_run_id,
            row.status,
            row.status_message,
            row.artifact_uri,
            row.lifecycle_stage,
            row.creation_timestamp_ms,
            row.last_updated_timestamp_ms,
            dict(params.get(row.model_id, {})),
            dict(tags.get(row.model_id, {})),
        )
        for row in LoggedModel.select().where(LoggedModel.model_id.in_(ids))
    }


def import_logged_model(model: ImportedLoggedModel) -> None:
    """Create or update a logged model under its own id, with exactly its params and tags."""
    values = {
        "experiment": model.experiment_id,
        "name": model.name,
        "model_type": model.model_type,
        "source_run_id": model.source_run_id,
        "status": model.status,
        "status_message": model.status_message,
        "artifact_uri": model.artifact_uri,
        "lifecycle_stage": model.lifecycle_stage,
        "creation_timestamp_ms": model.creation_timestamp_ms,
        "last_updated_timestamp_ms": model.last_updated_timestamp_ms,
    }
    with parents_imported(f"logged model {model.model_id}"), write_transaction():
        upsert_rows(
            LoggedModel,
            [{"model_id": model.model_id, **values}],
            key=(LoggedModel.model_id,),
            update=_fields(LoggedModel, values),
        )
        replace_tags(LoggedModelParam, LoggedModelParam.model, model.model_id, model.params)
        replace_tags(LoggedModelTag, LoggedModelTag.model, model.model_id, model.tags)


def read_run(run_id: str) -> ImportedRun | None:
    """The run as stored, whole (every metric point), in the import's terms; None if absent."""
    run = Run.get_or_none(Run.run_uuid == run_id)
    if run is None:
        return None
    from registry.store.metrics import logged_value

    points = [
        MetricPoint(
            m.key,
            logged_value(m.value, m.value_kind),
            m.timestamp,
            m.step,
            m.model_id,
            m.dataset_name,
            m.dataset_digest,
        )
        for m in MetricHistory.select()
        .where(MetricHistory.run == run_id)
        .order_by(MetricHistory.key, MetricHistory.step, MetricHistory.timestamp)
    ]
    datasets = [
        DatasetInput(
            d.name,
            d.digest,
            d.source_type,
            d.source,
            d.schema,
            d.profile,
            {t["key"]: t["value"] for t in json.loads(i.tags_json or "[]")},
        )
        for i, d in (
            (row, row.dataset)
            for row in RunInput.select(RunInput, Dataset)
            .join(Dataset)
            .where(RunInput.run == run_id)
        )
    ]
    return ImportedRun(
        run.run_uuid,
        run.experiment_id,
        run.name,
        run.user_id,
        run.status,
        run.start_time,
        run.end_time,
        run.lifecycle_stage,
        run.artifact_uri,
        run.deleted_time,
        params=_key_values(Param, Param.run, [run_id]).get(run_id, {}),
        tags=_key_values(RunTag, RunTag.run, [run_id]).get(run_id, {}),
        metrics=points,
        datasets=datasets,
        model_inputs=[
            r.model_id for r in RunModelInput.select().where(RunModelInput.run == run_id)
        ],
        model_outputs=[
            (r.model_id, r.step)
            for r in RunModelOutput.select().where(RunModelOutput.run == run_id)
        ],
    )
