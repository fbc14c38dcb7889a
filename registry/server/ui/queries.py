"""Read-only queries the tracking pages need and the store does not offer.

Every function here reads; writes go through ``registry.store`` so that its rules apply.
Lists of experiments and runs keep only what the request's user may read (the store's
``visible_experiments`` filter, a no-op with auth off or for an admin).
Queries fetch a page's worth of rows with one statement per kind of value (never one per run),
which is what keeps the runs table fast at 100,000 runs.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, cast

import peewee as pw

from registry.store import db
from registry.store.metrics import logged_value
from registry.store.models import (
    ACTIVE,
    DELETED,
    VALUE_FINITE,
    Dataset,
    Experiment,
    LatestMetric,
    LoggedModel,
    Metric,
    Param,
    Run,
    RunInput,
    RunTag,
)
from registry.store.permissions import visible_experiments

PARENT_TAG = "mlflow.parentRunId"
MAX_POINTS = 2000
"""Metric histories longer than this are thinned (evenly, keeping the last point) for charts."""


@dataclass(frozen=True)
class ExperimentSummary:
    """An experiment with its number of active runs and its last activity (ms)."""

    experiment: Experiment
    run_count: int
    last_activity: int


@dataclass
class RunRow:
    """One run with the values of the columns a page shows."""

    run: Run
    params: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    children: list[RunRow] = field(default_factory=list)

    @property
    def parent_id(self) -> str | None:
        """The parent run's id, from the ``mlflow.parentRunId`` tag."""
        return self.tags.get(PARENT_TAG)

    def value(self, column: str) -> Any:
        """The value of a ``params.k``/``metrics.k``/``tags.k`` column, or None."""
        kind, _, key = column.partition(".")
        if kind == "params":
            return self.params.get(key)
        if kind == "metrics":
            return self.metrics.get(key)
        return self.tags.get(key)


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


def run_count(experiment_id: int, deleted: bool = False) -> int:
    """How many active (or deleted) runs an experiment has, counted on the covering index."""
    stage = DELETED if deleted else ACTIVE
    query = Run.select(pw.fn.COUNT(pw.SQL("*"))).where(
        (Run.experiment == experiment_id) & (Run.lifecycle_stage == stage)
    )
    return int(query.scalar() or 0)


def column_keys(experiment_id: int) -> dict[str, list[str]]:
    """The param, metric and tag keys logged by any run of an experiment."""
    return {
        name: _keys_in_experiment(model, experiment_id)
        for name, model in (("params", Param), ("metrics", LatestMetric), ("tags", RunTag))
    }


def _keys_in_experiment(
    model: type[Param | LatestMetric | RunTag], experiment_id: int
) -> list[str]:
    # Walk the (key, run) index one distinct key at a time (a skip scan), then keep the keys that
    # some run of this experiment has: a few index probes instead of a scan of every value row.
    keys = []
    key = model.select(pw.fn.MIN(model.key)).scalar()
    while key is not None:
        used = (
            model.select(pw.SQL("1"))
            .join(Run, on=(model.run == Run.run_uuid))
            .where((model.key == key) & (Run.experiment == experiment_id))
            .exists()
        )
        if used:
            keys.append(key)
        key = model.select(pw.fn.MIN(model.key)).where(model.key > key).scalar()
    return keys


def experiment_names() -> list[Experiment]:
    """Active experiments the user may read, by name, for the sidebar (no run counts)."""
    query = Experiment.select(Experiment.experiment_id, Experiment.name).where(
        Experiment.lifecycle_stage == ACTIVE, visible_experiments(Experiment.experiment_id)
    )
    return list(query.order_by(Experiment.name))


def fill_columns(runs: list[Run], columns: Iterable[str]) -> list[RunRow]:
    """Rows for ``runs`` with the values of ``columns`` (plus the parent tag and run names)."""
    rows = {run.run_uuid: RunRow(run) for run in runs}
    ids = list(rows)
    wanted: dict[str, set[str]] = {"params": set(), "metrics": set(), "tags": {PARENT_TAG}}
    for column in columns:
        kind, _, key = column.partition(".")
        if kind in wanted and key:
            wanted[kind].add(key)
    if not ids:
        return []
    if wanted["params"]:
        for p in Param.select().where(Param.run.in_(ids), Param.key.in_(wanted["params"])):
            rows[p.run_id].params[p.key] = p.value
    if wanted["metrics"]:
        query = LatestMetric.select().where(
            LatestMetric.run.in_(ids), LatestMetric.key.in_(wanted["metrics"])
        )
        for m in query:
            rows[m.run_id].metrics[m.key] = logged_value(m.value, m.value_kind)
    for t in RunTag.select().where(RunTag.run.in_(ids), RunTag.key.in_(wanted["tags"])):
        rows[t.run_id].tags[t.key] = t.value
    return [rows[i] for i in ids]


def nest(rows: list[RunRow]) -> list[RunRow]:
    """Move each run whose parent is also in ``rows`` under that parent, keeping the order."""
    by_id = {row.run.run_uuid: row for row in rows}
    top = []
    for row in rows:
        parent = by_id.get(row.parent_id or "")
        if parent is not None and parent is not row:
            parent.children.append(row)
        else:
            top.append(row)
    return top


@dataclass(frozen=True)
class RunDetail:
    """Everything the run page shows except metric histories and artifacts."""

    run: Run
    params: list[tuple[str, str]]
    metrics: list[tuple[str, float, int, int]]
    tags: list[tuple[str, str]]
    datasets: list[dict[str, Any]]
    logged_models: list[LoggedModel]


def run_detail(run: Run) -> RunDetail:
    """Params, latest metrics (key, value, step, timestamp), tags, datasets and logged models."""
    params = [(p.key, p.value) for p in Param.select().where(Param.run == run).order_by(Param.key)]
    latest = LatestMetric.select().where(LatestMetric.run == run).order_by(LatestMetric.key)
    metrics = [(m.key, logged_value(m.value, m.value_kind), m.step, m.timestamp) for m in latest]
    tags = [(t.key, t.value) for t in RunTag.select().where(RunTag.run == run).order_by(RunTag.key)]
    models = (
        LoggedModel.select()
        .where(LoggedModel.source_run_id == run.run_uuid)
        .order_by(LoggedModel.creation_timestamp_ms)
    )
    return RunDetail(run, params, metrics, tags, run_datasets(run.run_uuid), list(models))


def run_datasets(run_id: str) -> list[dict[str, Any]]:
    """The datasets a run used: name, digest, source, and the context tag of the input."""
    query = (
        RunInput.select(RunInput, Dataset)
        .join(Dataset)
        .where(RunInput.run == run_id)
        .order_by(Dataset.name)
    )
    found = []
    for item in query:
        tags = {t.get("key"): t.get("value") for t in json.loads(item.tags_json or "[]")}
        found.append(
            {
                "name": item.dataset.name,
                "digest": item.dataset.digest,
                "source_type": item.dataset.source_type,
                "source": item.dataset.source,
                "context": tags.get("mlflow.data.context", ""),
            }
        )
    return found


def metric_histories(run_ids: list[str]) -> dict[str, Any]:
    """``{key: {run_id: {"step": [...], "time": [...], "value": [...]}}}`` for chart traces.

    NaN and infinite values become None (a gap in the line): JSON has no spelling for them.
    """
    query = (
        Metric.select(
            Metric.run, Metric.key, Metric.step, Metric.timestamp, Metric.value, Metric.value_kind
        )
        .where(Metric.run.in_(run_ids))
        .order_by(Metric.run, Metric.key, Metric.step, Metric.timestamp)
    )
    series: dict[str, Any] = {}
    points: dict[str, list[Any]] = {}
    last: tuple[str, str] | None = None
    # Plain DB-API rows in the covering index's order: peewee's per-row conversion would cost
    # more than the query itself for 100 runs with long histories.
    for run_id, key, step, timestamp, value, kind in db.execute(query):
        if (run_id, key) != last:
            last = (run_id, key)
            points = series.setdefault(key, {})[run_id] = {"step": [], "time": [], "value": []}
        points["step"].append(step)
        points["time"].append(timestamp)
        points["value"].append(value if kind == VALUE_FINITE else None)
    for by_run in series.values():
        for run_id, history in by_run.items():
            by_run[run_id] = _thin(history)
    return series


def _thin(points: dict[str, list[Any]]) -> dict[str, list[Any]]:
    size = len(points["value"])
    if size <= MAX_POINTS:
        return points
    stride = size / MAX_POINTS
    picks = sorted({int(i * stride) for i in range(MAX_POINTS)} | {size - 1})
    return {name: [values[i] for i in picks] for name, values in points.items()}


def runs_by_id(run_ids: list[str]) -> list[Run]:
    """The runs with these ids that the user may read, in the order given (others skipped)."""
    query = Run.select().where(Run.run_uuid.in_(run_ids), visible_experiments(Run.experiment))
    found = {run.run_uuid: run for run in query}
    return [found[i] for i in run_ids if i in found]


def runs_outside(experiment_id: int, run_ids: list[str]) -> list[str]:
    """The ids among ``run_ids`` that are not runs of this experiment."""
    query = Run.select(Run.run_uuid).where(
        Run.run_uuid.in_(run_ids), Run.experiment == experiment_id
    )
    inside = {run.run_uuid for run in query}
    return [i for i in run_ids if i not in inside]


def keys_of_runs(run_ids: list[str]) -> dict[str, list[str]]:
    """The param, metric and tag keys that any of these runs has."""
    keys: dict[str, list[str]] = {}
    for name, model in (("params", Param), ("metrics", LatestMetric), ("tags", RunTag)):
        query = model.select(model.key).where(model.run.in_(run_ids)).distinct()
        keys[name] = sorted(row.key for row in query)
    return keys
