"""What a page of runs carries besides the run rows, loaded with one query per table.

Rows come back as small named tuples straight from the cursor, and each ``IN (...)`` statement
is rendered once per page size: peewee's per-row and per-placeholder work is otherwise most of
the cost of a page of 1000 runs.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any, NamedTuple

import peewee

from registry.store import db, engine_name
from registry.store.models import (
    Dataset,
    LatestMetric,
    Param,
    RunInput,
    RunModelInput,
    RunModelOutput,
    RunTag,
)


class KeyValueRow(NamedTuple):
    """A param or tag of a run."""

    run_id: str
    key: str
    value: str


class LatestMetricRow(NamedTuple):
    """A run's latest value of one metric (stored form: see ``registry.store.models``)."""

    run_id: str
    key: str
    value: float
    value_kind: int
    timestamp: int
    step: int


class DatasetInputRow(NamedTuple):
    """A dataset a run used, with its input tags as JSON."""

    run_id: str
    name: str
    digest: str
    source_type: str
    source: str
    schema: str | None
    profile: str | None
    tags_json: str


class ModelInputRow(NamedTuple):
    """A logged model a run used."""

    run_id: str
    model_id: str


class ModelOutputRow(NamedTuple):
    """A logged model a run produced, at a step."""

    run_id: str
    model_id: str
    step: int


def _by_key(model: Any) -> tuple[Any, ...]:
    """The order putting each run's rows by key: the cheapest one on this engine.

    SQLite reads ``run_id, key`` along the primary key, where ``key`` alone is a sort of the
    page (3x slower for metrics); PostgreSQL sorts either way, ``key`` alone the faster.
    """
    return (model.run, model.key) if engine_name() == "sqlite" else (model.key,)


def _key_values(model: Any) -> Callable[[list[str]], peewee.Query]:
    def build(ids: list[str]) -> peewee.Query:
        query: peewee.Query = (
            model.select(model.run, model.key, model.value)
            .where(model.run.in_(ids))
            .order_by(*_by_key(model))
        )
        return query

    return build


def _latest(ids: list[str]) -> peewee.Query:
    m = LatestMetric
    columns = (m.run, m.key, m.value, m.value_kind, m.timestamp, m.step)
    return m.select(*columns).where(m.run.in_(ids)).order_by(*_by_key(m))


def _datasets(ids: list[str]) -> peewee.Query:
    d = Dataset
    columns = (d.name, d.digest, d.source_type, d.source, d.schema, d.profile)
    return (
        RunInput.select(RunInput.run, *columns, RunInput.tags_json)
        .join(Dataset)
        .where(RunInput.run.in_(ids))
        .order_by(RunInput.id)
    )


def _model_inputs(ids: list[str]) -> peewee.Query:
    m = RunModelInput
    return m.select(m.run, m.model_id).where(m.run.in_(ids)).order_by(m.model_id)


def _model_outputs(ids: list[str]) -> peewee.Query:
    m = RunModelOutput
    return m.select(m.run, m.model_id, m.step).where(m.run.in_(ids)).order_by(m.model_id)


RELATED: tuple[tuple[str, Any, Callable[[list[str]], peewee.Query]], ...] = (
    ("params", KeyValueRow, _key_values(Param)),
    ("tags", KeyValueRow, _key_values(RunTag)),
    ("metrics", LatestMetricRow, _latest),
    ("dataset_inputs", DatasetInputRow, _datasets),
    ("model_inputs", ModelInputRow, _model_inputs),
    ("model_outputs", ModelOutputRow, _model_outputs),
)
_rendered: dict[tuple[str, str, int], str] = {}
_RENDERED_LIMIT = 512


def load_related(run_ids: list[str]) -> dict[str, dict[str, list[Any]]]:
    """``{run_id: {"params": [...], "tags": [...], ...}}`` for the runs of one page."""
    related: dict[str, dict[str, list[Any]]] = defaultdict(lambda: defaultdict(list))
    for name, row_type, build in RELATED:
        for row in _fetch(name, build, run_ids):
            related[row[0]][name].append(row_type(*row))
    return related


def fetch_rows(name: str, run_ids: list[str]) -> list[tuple[Any, ...]]:
    """The plain tuples of one ``RELATED`` table for these runs, with its row type's fields.

    Each run's rows come in the order ``load_related`` lists them.
    """
    return _fetch(name, _BUILDS[name], run_ids)  # type: ignore[no-any-return]


_BUILDS = {name: build for name, _, build in RELATED}


def _fetch(name: str, build: Callable[[list[str]], peewee.Query], run_ids: list[str]) -> Any:
    cache_key = (engine_name(), name, len(run_ids))
    sql = _rendered.get(cache_key)
    if sql is None:
        sql, params = build(run_ids).sql()
        if params != run_ids:
            raise RuntimeError(f"the {name} query has parameters besides the run ids")
        if len(_rendered) < _RENDERED_LIMIT:
            _rendered[cache_key] = sql
    return db.execute_sql(sql, run_ids).fetchall()
