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

from registry.artifacts import ArtifactStore
from registry.config import Config
from registry.services.sources import artifact_path_of, logged_model_id_of, runs_uri_parts
from registry.store import write_transaction
from registry.store.purge import (
    lock_expired,
    logged_models_in_experiments,
    purge_rows,
    runs_in_experiments,
    version_references,
)

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
            purge_rows(
                [model_id for model_id, _ in plan.models],
                [run_id for run_id, _ in plan.runs],
                plan.experiments,
            )
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


def _plan(cutoff_ms: int, config: Config) -> _Plan:
    expired, candidates, model_candidates = lock_expired(cutoff_ms)
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
    for run_id, model_id, source in version_references():
        refs.runs.update(r for r in (run_id, _source_run(source)) if r)
        refs.models.update(m for m in (model_id, logged_model_id_of(source)) if m)
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
    in_use |= {e for run_id, e in runs_in_experiments(expired) if run_id not in doomed_runs}
    in_use |= {
        e for model_id, e in logged_models_in_experiments(expired) if model_id not in doomed_models
    }
    return in_use
