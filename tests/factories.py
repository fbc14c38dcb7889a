"""Test data through the real store write path: plain functions, no factory library."""

from __future__ import annotations

import itertools
import time
from typing import Any

from registry.store.experiments import create_experiment
from registry.store.logged_models import LoggedModelRecord, create_logged_model
from registry.store.metrics import MetricPoint
from registry.store.models import Experiment, Run
from registry.store.run_data import log_batch
from registry.store.runs import create_run

_counter = itertools.count(1)


def make_experiment(**overrides: Any) -> Experiment:
    """An active experiment with a unique name; overrides go to ``create_experiment``."""
    args: dict[str, Any] = {"name": f"experiment-{next(_counter)}-{time.time_ns()}"}
    args.update(overrides)
    return create_experiment(**args)


def make_run(
    experiment: Experiment | None = None,
    *,
    params: dict[str, str] | None = None,
    metrics: dict[str, float] | None = None,
    tags: dict[str, str] | None = None,
    **overrides: Any,
) -> Run:
    """A RUNNING run (in a new experiment unless given) with optional params, metrics and tags."""
    experiment = experiment or make_experiment()
    run = create_run(experiment.experiment_id, **{"user_id": "tester", **overrides})
    now = int(time.time() * 1000)
    points = [MetricPoint(key, value, now) for key, value in (metrics or {}).items()]
    if points or params or tags:
        log_batch(
            run.run_uuid,
            metrics=points,
            params=list((params or {}).items()),
            tags=list((tags or {}).items()),
        )
    return run


def make_logged_model(
    experiment: Experiment | None = None, run: Run | None = None, **overrides: Any
) -> LoggedModelRecord:
    """A PENDING logged model (source run optional)."""
    experiment = experiment or make_experiment()
    args: dict[str, Any] = {"name": "model", "source_run_id": run.run_uuid if run else None}
    args.update(overrides)
    return create_logged_model(experiment.experiment_id, **args)
