"""Garbage collection: permanently remove runs and experiments deleted before a cutoff.

Anything a registered model version still uses is kept: its run, the run's experiment, and the
logged model it was registered from. Running it again changes nothing more.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from registry.artifacts import ArtifactStore
from registry.store import write_transaction
from registry.store.models import DELETED, Experiment, LoggedModel, ModelVersion, Run

logger = logging.getLogger(__name__)


@dataclass
class GcReport:
    """What a collection removed (or, in a dry run, would remove) and what it kept."""

    runs: list[str] = field(default_factory=list)
    logged_models: list[str] = field(default_factory=list)
    experiments: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)


def collect_garbage(artifacts: ArtifactStore, cutoff_ms: int, dry_run: bool = False) -> GcReport:
    """Remove runs and experiments whose deletion is at or before ``cutoff_ms``, with artifacts.

    A run in a deleted experiment counts as deleted at the experiment's deletion time. Rows are
    removed first, artifacts after, so a crash in between leaves orphan files, never rows that
    point at missing files.
    """
    report = GcReport()
    versions = list(ModelVersion.select(ModelVersion.run_id, ModelVersion.model_id))
    protected_runs = {v.run_id for v in versions if v.run_id}
    protected_models = {v.model_id for v in versions if v.model_id}
    expired_experiments = {
        e.experiment_id: e
        for e in Experiment.select().where(
            (Experiment.lifecycle_stage == DELETED)
            & (Experiment.deleted_time <= cutoff_ms)
            & (Experiment.experiment_id != 0)
        )
    }
    candidates = Run.select(Run.run_uuid, Run.experiment).where(
        ((Run.lifecycle_stage == DELETED) & (Run.deleted_time <= cutoff_ms))
        | Run.experiment.in_(list(expired_experiments) or [-1])
    )
    doomed_runs: list[tuple[str, int]] = []
    for run in candidates:
        if run.run_uuid in protected_runs:
            report.kept.append(f"run {run.run_uuid}: used by a registered model version")
        else:
            doomed_runs.append((run.run_uuid, run.experiment_id))
    doomed_run_ids = [run_id for run_id, _ in doomed_runs]
    models = LoggedModel.select(LoggedModel.model_id, LoggedModel.experiment).where(
        LoggedModel.source_run_id.in_(doomed_run_ids or [""])
        | LoggedModel.experiment.in_(list(expired_experiments) or [-1])
    )
    doomed_models: list[tuple[str, int]] = []
    for model in models:
        if model.model_id in protected_models:
            report.kept.append(f"logged model {model.model_id}: registered as a model version")
        else:
            doomed_models.append((model.model_id, model.experiment_id))
    kept_experiments = _experiments_still_in_use(expired_experiments, doomed_run_ids, doomed_models)
    for experiment_id in kept_experiments:
        report.kept.append(f"experiment {experiment_id}: holds runs or models still in use")
    doomed_experiments = [e for e in expired_experiments if e not in kept_experiments]

    report.runs = doomed_run_ids
    report.logged_models = [m for m, _ in doomed_models]
    report.experiments = [str(e) for e in doomed_experiments]
    if dry_run:
        return report
    _delete_rows(doomed_run_ids, [m for m, _ in doomed_models], doomed_experiments)
    for run_id, experiment_id in doomed_runs:
        artifacts.delete(f"{experiment_id}/{run_id}")
    for model_id, experiment_id in doomed_models:
        artifacts.delete(f"{experiment_id}/models/{model_id}")
    for experiment_id in doomed_experiments:
        artifacts.delete(str(experiment_id))
    logger.info(
        "gc removed %d runs, %d logged models, %d experiments",
        len(report.runs),
        len(report.logged_models),
        len(report.experiments),
    )
    return report


def _experiments_still_in_use(
    expired: dict[int, Experiment], doomed_runs: list[str], doomed_models: list[tuple[str, int]]
) -> set[int]:
    """Expired experiments that keep a run or logged model which is not being removed."""
    if not expired:
        return set()
    ids = list(expired)
    doomed_run_set = set(doomed_runs)
    doomed_model_set = {m for m, _ in doomed_models}
    in_use = {
        run.experiment_id
        for run in Run.select(Run.run_uuid, Run.experiment).where(Run.experiment.in_(ids))
        if run.run_uuid not in doomed_run_set
    }
    in_use |= {
        model.experiment_id
        for model in LoggedModel.select(LoggedModel.model_id, LoggedModel.experiment).where(
            LoggedModel.experiment.in_(ids)
        )
        if model.model_id not in doomed_model_set
    }
    return in_use


def _delete_rows(run_ids: list[str], model_ids: list[str], experiment_ids: list[int]) -> None:
    batch = 500
    with write_transaction():
        for start in range(0, len(model_ids), batch):
            chunk = model_ids[start : start + batch]
            LoggedModel.delete().where(LoggedModel.model_id.in_(chunk)).execute()
        for start in range(0, len(run_ids), batch):
            chunk = run_ids[start : start + batch]
            Run.delete().where(Run.run_uuid.in_(chunk)).execute()
        if experiment_ids:
            Experiment.delete().where(Experiment.experiment_id.in_(experiment_ids)).execute()
