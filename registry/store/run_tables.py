"""Runs as rows of a table, for the web UI's runs table and compare page.

A page's values are fetched with one statement per kind of value (params, latest metrics, tags),
never one per run: that is what keeps the runs table fast at 100,000 runs. Lookups by run id
keep only the runs the request's user may read (``visible_experiments``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, cast

import peewee as pw

from registry.search.parser import parse_filter
from registry.store.filters import search_runs_query
from registry.store.filters.conditions import compile_filter
from registry.store.filters.targets import RUNS
from registry.store.metrics import logged_value
from registry.store.models import (
    ACTIVE,
    DELETED,
    Dataset,
    LatestMetric,
    ModelVersion,
    Param,
    RegisteredModel,
    Run,
    RunInput,
    RunTag,
)
from registry.store.permissions import visible_experiments, visible_models
from registry.store.run_search import page_of_runs

PARENT_TAG = "mlflow.parentRunId"


@dataclass
class RunRow:
    """One run with the values of the columns a page shows."""

    run: Run
    params: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    children: list[RunRow] = field(default_factory=list)
    versions: list[tuple[str, int]] = field(default_factory=list)
    """The registered versions (model name, version) made from this run."""
    datasets: list[tuple[str, str]] = field(default_factory=list)
    """The datasets (name, digest) this run used."""

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


def table_page(
    experiment_id: int,
    filter_string: str,
    order_by: list[str],
    *,
    deleted: bool,
    page: int,
    per_page: int,
) -> list[Run]:
    """Page ``page`` (from 1) of an experiment's active (or deleted) runs matching the filter.

    Up to ``per_page + 1`` runs: the one past the page says that a next page exists.

    Raises:
        InvalidParameter: a bad filter or order-by item.
    """
    view = "DELETED_ONLY" if deleted else "ACTIVE_ONLY"
    offset = (page - 1) * per_page
    return page_of_runs(
        [experiment_id], filter_string, order_by, view, offset=offset, limit=per_page + 1
    )


def match_count(experiment_id: int, filter_string: str, deleted: bool = False) -> int:
    """How many active (or deleted) runs of an experiment match the filter.

    Raises:
        InvalidParameter: a bad filter.
    """
    if not filter_string:
        return run_count(experiment_id, deleted)
    view = "DELETED_ONLY" if deleted else "ACTIVE_ONLY"
    return int(search_runs_query([experiment_id], filter_string, None, view).order_by().count())


def runs_among(
    experiment_id: int, run_ids: list[str], filter_string: str, deleted: bool = False
) -> list[Run]:
    """Those of ``run_ids`` in the experiment's active (or deleted) runs that match the filter.

    Newest first. Each condition is probed run by run (an EXISTS along that run's rows), so a
    few ids cost a few lookups, however many runs of the experiment the filter matches.

    Raises:
        InvalidParameter: a bad filter.
    """
    if not run_ids:
        return []
    stage = DELETED if deleted else ACTIVE
    query = Run.select().where(
        Run.run_uuid.in_(run_ids), Run.experiment == experiment_id, Run.lifecycle_stage == stage
    )
    node = parse_filter(filter_string, "runs")
    if node is not None:
        query = query.where(compile_filter(node, RUNS, probe=True))
    return list(query.order_by(Run.start_time.desc(nulls="LAST"), Run.run_uuid))


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


def attach_outputs(rows: list[RunRow]) -> None:
    """Fill each row's registered versions (readable models only) and input datasets."""
    by_id = {row.run.run_uuid: row for row in rows}
    if not by_id:
        return
    versions = (
        ModelVersion.select(ModelVersion.run_id, RegisteredModel.name, ModelVersion.version)
        .join(RegisteredModel)
        .where(ModelVersion.run_id.in_(list(by_id)), visible_models(RegisteredModel.id))
        .order_by(RegisteredModel.name, ModelVersion.version)
    )
    for run_id, name, version in cast(Iterable[tuple[str, str, int]], versions.tuples()):
        by_id[run_id].versions.append((name, version))
    inputs = (
        RunInput.select(RunInput.run, Dataset.name, Dataset.digest)
        .join(Dataset)
        .where(RunInput.run.in_(list(by_id)))
        .order_by(Dataset.name, Dataset.digest)
    )
    for run_id, name, digest in cast(Iterable[tuple[str, str, str]], inputs.tuples()):
        by_id[run_id].datasets.append((name, digest))


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


def runs_by_id(run_ids: list[str]) -> list[Run]:
    """The runs with these ids that the user may read, in the order given (others skipped)."""
    query = Run.select().where(Run.run_uuid.in_(run_ids), visible_experiments(Run.experiment))
    found = {run.run_uuid: run for run in query}
    return [found[i] for i in run_ids if i in found]


def run_names(run_ids: list[str]) -> dict[str, str]:
    """Names by id of the runs the user may read (for source-run links)."""
    query = Run.select(Run.run_uuid, Run.name).where(
        Run.run_uuid.in_(run_ids), visible_experiments(Run.experiment)
    )
    return dict(cast(Iterable[tuple[str, str]], query.tuples()))


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
