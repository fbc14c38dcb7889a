"""Garbage collection: permanently remove runs and experiments deleted before a cutoff.

Anything a registered model version still references is kept: the run named by its ``run_id``
or by its ``runs:/<run_id>/...`` source, the logged model named by its ``model_id`` or by its
``models:/m-...`` source (and the logged models of a kept run, which a ``runs:/`` source may
resolve to), whatever its artifact-URI source points into or contains (``mlflow-artifacts:/``,
``file:`` or a path under the root, in every spelling registration accepts: sources are resolved
as registration resolves them), and the experiments that hold them. The decision is taken inside
the transaction that deletes the rows, after locking the rows it may delete, so a version
registered at the same time is either seen or refused because a row it references is gone.
Running it again changes nothing more.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from registry.artifacts import ArtifactStore
from registry.config import Config
from registry.services.sources import artifact_path_of, logged_model_id_of, runs_uri_parts
from registry.store import lock_for_update, write_transaction
from registry.store.models import DELETED, Experiment, LoggedModel, ModelVersion, Run

logger = logging.getLogger(__name__)


@dataclass
class GcReport:
    """What a collection removed (or, in a dry run, would remove) and what it kept."""

    runs: list[str] = field(default_factory=list)
    logged_models: list[str] = field(default_factory=list)
    experiments: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)


@dataclass
class _References:
    """What the registered model versions point at."""

    runs: set[str] = field(default_factory=set)
    models: set[str] = field(default_factory=set)
    paths: list[str] = field(default_factory=list)

    def holds_path(self, prefix: str) -> bool:
        # A source inside the folder, or one that contains it (its digest covers the folder).
        return any(
            path in ("", prefix) or path.startswith(prefix + "/") or prefix.startswith(path + "/")
            for path in self.paths
        )


@dataclass
class _Plan:
    report: GcReport
    runs: list[tuple[str, int]]
    models: list[tuple[str, int]]
    experiments: list[int]


def collect_garbage(
    artifacts: ArtifactStore, config: Config, cutoff_ms: int, dry_run: bool = False
) -> GcReport:
    """Remove runs and experiments whose deletion is at or before ``cutoff_ms``, with artifacts.

    ``config`` is the server's: its artifact root decides which sources name files in the store.

    A run in a deleted experiment counts as deleted at the experiment's deletion time. Rows are
    removed first, artifacts after, so a crash in between leaves orphan files, never rows that
    point at missing files.
    """
    with write_transaction():
        plan = _plan(cutoff_ms, config)
        if not dry_run:
            _delete_rows(plan)
    if dry_run:
        return plan.report
    for run_id, experiment_id in plan.runs:
        artifacts.delete(f"{experiment_id}/{run_id}")
    for model_id, experiment_id in plan.models:
        artifacts.delete(f"{experiment_id}/models/{model_id}")
    for experiment_id in plan.experiments:
        artifacts.delete(str(experiment_id))
    report = plan.report
    logger.info(
        "gc removed %d runs, %d logged models, %d experiments",
        len(report.runs),
        len(report.logged_models),
        len(report.experiments),
    )
    return report


def _lock_candidates(cutoff_ms: int) -> tuple[list[int], list[Run], list[LoggedModel]]:
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


def _plan(cutoff_ms: int, config: Config) -> _Plan:
    expired, candidates, model_candidates = _lock_candidates(cutoff_ms)
    refs = _version_references(config)
    report = GcReport()
    runs = []
    for run in candidates:
        if run.run_uuid in refs.runs or refs.holds_path(f"{run.experiment_id}/{run.run_uuid}"):
            report.kept.append(f"run {run.run_uuid}: used by a registered model version")
        else:
            runs.append((run.run_uuid, run.experiment_id))
    kept_runs = {r.run_uuid for r in candidates} - {run_id for run_id, _ in runs}
    models = []
    for model in model_candidates:
        prefix = f"{model.experiment_id}/models/{model.model_id}"
        used = model.model_id in refs.models or model.source_run_id in kept_runs | refs.runs
        if used or refs.holds_path(prefix):
            report.kept.append(f"logged model {model.model_id}: used by a registered model version")
        else:
            models.append((model.model_id, model.experiment_id))
    kept_experiments = _experiments_still_in_use(expired, runs, models, refs)
    for experiment_id in sorted(kept_experiments):
        report.kept.append(f"experiment {experiment_id}: holds runs or models still in use")
    experiments = [e for e in expired if e not in kept_experiments]
    report.runs = [run_id for run_id, _ in runs]
    report.logged_models = [model_id for model_id, _ in models]
    report.experiments = [str(e) for e in experiments]
    return _Plan(report, runs, models, experiments)


def _version_references(config: Config) -> _References:
    refs = _References()
    query = ModelVersion.select(ModelVersion.run_id, ModelVersion.model_id, ModelVersion.source)
    for version in query:
        source = str(version.source or "")
        refs.runs.update(r for r in (version.run_id, _source_run(source)) if r)
        refs.models.update(m for m in (version.model_id, logged_model_id_of(source)) if m)
        path = artifact_path_of(source, config)
        if path is not None:
            refs.paths.append(path)
    return refs


def _source_run(source: str) -> str:
    parts = runs_uri_parts(source)
    return parts[0] if parts else ""


def _experiments_still_in_use(
    expired: list[int],
    runs: list[tuple[str, int]],
    models: list[tuple[str, int]],
    refs: _References,
) -> set[int]:
    """Expired experiments that keep a run, logged model or file that is not being removed."""
    if not expired:
        return set()
    doomed_runs = {run_id for run_id, _ in runs}
    doomed_models = {model_id for model_id, _ in models}
    in_use = {e for e in expired if refs.holds_path(str(e))}
    in_use |= {
        run.experiment_id
        for run in Run.select(Run.run_uuid, Run.experiment).where(Run.experiment.in_(expired))
        if run.run_uuid not in doomed_runs
    }
    in_use |= {
        model.experiment_id
        for model in LoggedModel.select(LoggedModel.model_id, LoggedModel.experiment).where(
            LoggedModel.experiment.in_(expired)
        )
        if model.model_id not in doomed_models
    }
    return in_use


def _delete_rows(plan: _Plan) -> None:
    batch = 500
    model_ids = [model_id for model_id, _ in plan.models]
    run_ids = [run_id for run_id, _ in plan.runs]
    for start in range(0, len(model_ids), batch):
        chunk = model_ids[start : start + batch]
        LoggedModel.delete().where(LoggedModel.model_id.in_(chunk)).execute()
    for start in range(0, len(run_ids), batch):
        chunk = run_ids[start : start + batch]
        Run.delete().where(Run.run_uuid.in_(chunk)).execute()
    if plan.experiments:
        Experiment.delete().where(Experiment.experiment_id.in_(plan.experiments)).execute()
