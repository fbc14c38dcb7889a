"""The course's data, built through the REST API and our client before the UI walk.

An NYC-taxi course: an experiment of 7 baseline runs (one logs a real scikit-learn model), a
hyperopt-like sweep (a parent run and 50 nested trials, some early-stopped, some lacking a
param) and a registered model with 3 versions from those runs (stages, aliases, tags,
descriptions). Everything the walk asserts is derived from what is built here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd
from sklearn.linear_model import Lasso

import registry
import registry.sklearn
from registry.client.tracking_uri import reset_tracking_uri
from tests.ui.conftest import Api

START = 1_700_000_000_000
TRIALS = 50
STEPS = 20
EARLY_STOP_AT = 12
MODEL = "nyc-taxi-fare"
OTHER_MODEL = "churn-classifier"
# Markdown with raw HTML: the page must show the tag as text and never run it.
VERSION_NOTE = "**Lasso** on 2026 trips.\n\n<script>window.courseOwned = 1</script>"
BASELINES = [
    ("linear-regression", "linear", "0"),
    ("ridge-alpha-0.1", "ridge", "0.1"),
    ("ridge-alpha-1.0", "ridge", "1.0"),
    ("lasso-alpha-0.01", "lasso", "0.01"),
    ("lasso-alpha-0.1", "lasso", "0.1"),
    ("lasso-alpha-0.001", "lasso", "0.001"),
    ("elasticnet-0.5", "elasticnet", "0.5"),
]
SKLEARN_BASELINE = 5  # lasso-alpha-0.001 logs the real model


@dataclass
class Trial:
    """One sweep trial as logged: its run id, params and validation-rmse history."""

    run_id: str
    name: str
    params: dict[str, str]
    rmse: list[float]
    best_iteration: int | None


@dataclass
class Course:
    """Ids and facts of what was built."""

    baseline_exp: str
    sweep_exp: str
    baselines: list[str]
    baseline_metrics: dict[str, dict[str, float]]
    parent: str
    trials: list[Trial] = field(default_factory=list)
    sklearn_run: str = ""
    model_id: str = ""

    def trial(self, name: str) -> Trial:
        """The trial called ``name``."""
        return next(t for t in self.trials if t.name == name)


def trial_params(n: int) -> dict[str, str]:
    """Trial ``n``'s params: every seventh trial (n % 7 == 3) lacks ``reg_alpha``."""
    params = {
        "max_depth": str(3 + n % 8),
        "learning_rate": f"{0.02 + 0.01 * (n % 9):.2f}",
        "min_child_weight": str(1 + n % 4),
        "objective": "reg:squarederror",  # the same in every trial: a constant param
    }
    if n % 7 != 3:
        params["reg_alpha"] = f"{0.001 * (1 + n % 5):.3f}"
    return params


def trial_rmse(n: int) -> list[float]:
    """Trial ``n``'s validation-rmse per round; every fifth trial (n % 5 == 4) stops early."""
    steps = EARLY_STOP_AT if n % 5 == 4 else STEPS
    floor = 4.5 + (n * 37 % 50) / 25
    return [round(floor + 6.0 * math.exp(-s / 4), 4) for s in range(steps)]


def build_course(api: Api, server: str) -> Course:
    """Create the whole course on ``server`` and return what was made."""
    course = Course(
        baseline_exp=api.experiment("nyc-taxi-baselines"),
        sweep_exp=api.experiment("nyc-taxi-hyperopt"),
        baselines=[],
        baseline_metrics={},
        parent="",
    )
    _baselines(api, course)
    _sweep(api, course)
    _sklearn_model(server, course)
    _registry(api, course)
    return course


def _baselines(api: Api, course: Course) -> None:
    for n, (name, kind, alpha) in enumerate(BASELINES):
        metrics = {"rmse": 6.1 - n * 0.15, "mae": 4.0 - n * 0.1, "r2": 0.6 + n * 0.03}
        if kind != "linear":
            metrics["best_iteration"] = 40.0 + n
        run = api.run(
            course.baseline_exp,
            name,
            start=START + n * 60_000,
            params={"model": kind, "alpha": alpha, "features": "PU_DO,trip_distance"},
            metrics=[(key, value, 0) for key, value in metrics.items()],
            tags={"team": "fares", "mlflow.source.git.commit": f"c0ffee{n:02d}"},
        )
        api.call(
            "POST",
            "/runs/update",
            run_id=run,
            status="FINISHED",
            end_time=START + n * 60_000 + 9000,
        )
        course.baselines.append(run)
        course.baseline_metrics[run] = metrics


def _sweep(api: Api, course: Course) -> None:
    # The parent starts first, as hyperopt's does: the newest-first table lists it last.
    course.parent = api.run(
        course.sweep_exp,
        "hyperopt-sweep",
        start=START + 3_600_000,
        params={"max_evals": str(TRIALS), "algo": "tpe"},
    )
    for n in range(TRIALS):
        name = f"trial-{n:02d}"
        params = trial_params(n)
        rmse = trial_rmse(n)
        best = len(rmse) - 1 if len(rmse) < STEPS else None
        metrics = [("validation-rmse", value, step) for step, value in enumerate(rmse)]
        if best is not None:
            metrics.append(("best_iteration", float(best), 0))
        run = api.run(
            course.sweep_exp,
            name,
            start=START + 3_600_000 + 1000 * (n + 1),
            params=params,
            metrics=metrics,
            tags={"mlflow.parentRunId": course.parent},
        )
        course.trials.append(Trial(run, name, params, rmse, best))


def _sklearn_model(server: str, course: Course) -> None:
    """Log a fitted Lasso to one baseline run through our client (fluent API)."""
    frame = pd.DataFrame({"trip_distance": [1.0, 2.5, 4.0, 8.0], "passengers": [1, 2, 1, 3]})
    target = 2.5 + 3.0 * frame.trip_distance
    course.sklearn_run = course.baselines[SKLEARN_BASELINE]
    registry.set_tracking_uri(server)
    try:
        with registry.start_run(run_id=course.sklearn_run):
            info = registry.sklearn.log_model(
                Lasso(alpha=0.001).fit(frame, target), name="model", input_example=frame.head(2)
            )
    finally:
        reset_tracking_uri()
    course.model_id = str(info.model_id)


def _registry(api: Api, course: Course) -> None:
    api.call(
        "POST",
        "/registered-models/create",
        name=MODEL,
        description="Predicts the fare of a **yellow-cab** trip.",
        tags=[{"key": "team", "value": "fares"}],
    )
    sources = [
        (f"runs:/{course.baselines[1]}/model", course.baselines[1]),
        (f"runs:/{course.baselines[3]}/model", course.baselines[3]),
        (f"models:/{course.model_id}", course.sklearn_run),
    ]
    notes = ["First ridge baseline.", "Lasso, alpha 0.01.", VERSION_NOTE]
    for (source, run_id), note in zip(sources, notes, strict=True):
        api.call(
            "POST",
            "/model-versions/create",
            name=MODEL,
            source=source,
            run_id=run_id,
            description=note,
        )
    for version, stage in (("1", "Archived"), ("2", "Staging"), ("3", "Production")):
        api.call(
            "POST",
            "/model-versions/transition-stage",
            name=MODEL,
            version=version,
            stage=stage,
            archive_existing_versions=False,
        )
    api.call("POST", "/registered-models/alias", name=MODEL, alias="champion", version="3")
    api.call("POST", "/registered-models/alias", name=MODEL, alias="challenger", version="2")
    api.call(
        "POST", "/model-versions/set-tag", name=MODEL, version="3", key="validated", value="yes"
    )
    api.call("POST", "/registered-models/create", name=OTHER_MODEL)
