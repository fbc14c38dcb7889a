"""Garbage collection's rows: what was deleted before a cutoff, what versions reference, removal.

``registry.services.gc`` decides what to remove; these functions find, lock and delete the rows.
Call them inside one ``write_transaction`` so the decision holds until the rows are gone.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

from registry.store import lock_for_update
from registry.store.models import DELETED, Experiment, LoggedModel, ModelVersion, Run

_BATCH = 500


def lock_expired(cutoff_ms: int) -> tuple[list[int], list[Run], list[LoggedModel]]:
    """Lock and return what a collection at ``cutoff_ms`` may remove.

    That is: the ids of experiments deleted at or before the cutoff (never the default
    experiment 0); the runs deleted by then or in such an experiment (``run_uuid`` and
    ``experiment`` loaded); and the logged models of those runs or experiments (``model_id``,
    ``experiment`` and ``source_run_id`` loaded).
    """
    # Locking reads come first: on MariaDB the snapshot of plain reads starts at the first
    # plain read, which must see every version committed before these locks were granted.
    query: Any = Experiment.select(Experiment.experiment_id).where(
        (Experiment.lifecycle_stage == DELETED)
        & (Experiment.deleted_time <= cutoff_ms)
        & (Experiment.experiment_id != 0)
    )
    expired: list[int] = [e.experiment_id for e in _locked(query)]
    query = Run.select(Run.run_uuid, Run.experiment).where(
        ((Run.lifecycle_stage == DELETED) & (Run.deleted_time <= cutoff_ms))
        | Run.experiment.in_(expired or [-1])
    )
    runs: list[Run] = _locked(query)
    columns = (LoggedModel.model_id, LoggedModel.experiment, LoggedModel.source_run_id)
    query = LoggedModel.select(*columns).where(
        LoggedModel.source_run_id.in_([r.run_uuid for r in runs] or [""])
        | LoggedModel.experiment.in_(expired or [-1])
    )
    models: list[LoggedModel] = _locked(query)
    return expired, runs, models


def _locked(query: Any) -> list[Any]:
    return list(lock_for_update(query))


def version_references() -> list[tuple[str | None, str | None, str]]:
    """``(run_id, model_id, source)`` of every registered model version, deleted ones included."""
    query = ModelVersion.select(ModelVersion.run_id, ModelVersion.model_id, ModelVersion.source)
    return [(v.run_id, v.model_id, str(v.source or "")) for v in query]


def runs_in_experiments(experiment_ids: list[int]) -> list[tuple[str, int]]:
    """``(run_id, experiment_id)`` of every run, in any stage, of these experiments."""
    query = Run.select(Run.run_uuid, Run.experiment).where(Run.experiment.in_(experiment_ids))
    return cast(list[tuple[str, int]], list(query.tuples()))


def logged_models_in_experiments(experiment_ids: list[int]) -> list[tuple[str, int]]:
    """``(model_id, experiment_id)`` of every logged model of these experiments."""
    query = LoggedModel.select(LoggedModel.model_id, LoggedModel.experiment).where(
        LoggedModel.experiment.in_(experiment_ids)
    )
    return cast(list[tuple[str, int]], list(query.tuples()))


def purge_rows(
    model_ids: Iterable[str], run_ids: Iterable[str], experiment_ids: Iterable[int]
) -> None:
    """Permanently delete these logged models, runs and experiments (child rows cascade)."""
    models, runs, experiments = list(model_ids), list(run_ids), list(experiment_ids)
    for start in range(0, len(models), _BATCH):
        chunk = models[start : start + _BATCH]
        LoggedModel.delete().where(LoggedModel.model_id.in_(chunk)).execute()
    for start in range(0, len(runs), _BATCH):
        chunk = runs[start : start + _BATCH]
        Run.delete().where(Run.run_uuid.in_(chunk)).execute()
    if experiments:
        Experiment.delete().where(Experiment.experiment_id.in_(experiments)).execute()
