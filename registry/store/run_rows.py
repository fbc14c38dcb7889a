"""What a page of runs carries besides the run rows, loaded with one query per table.

Rows come back as small named tuples straight from the cursor, and each ``IN (...)`` statement
is rendered once per page size: peewee's per-row and per-placeholder work is otherwise most of
the cost of a page of 1000 runs.

On PostgreSQL the ids go as one array parameter, which the server reads as one constant
instead of parsing and planning a list of 1000; params, tags and latest metrics are read with
one index probe per run (``_probed``); and ``tables_with_rows`` says in one statement which of
the rarely used tables (datasets, model inputs and outputs) hold anything for the page, so the
others are not asked. A page of 1000 runs of 10,000 costs the server a quarter less.
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


def _among(field: Any, ids: list[str]) -> peewee.Expression:
    """``field IN ids``; on PostgreSQL ``field = ANY(array)``, the ids bound as one parameter."""
    if engine_name() == "postgresql":
        return field == peewee.fn.ANY(peewee.Cast(_id_array(ids), "varchar[]"))  # type: ignore[no-any-return]
    return field.in_(ids)  # type: ignore[no-any-return]


def _id_array(ids: list[str]) -> str:
    """PostgreSQL's text form of an array of these strings.

    Each is quoted, its quotes and backslashes escaped: no id reads as a comma, a brace or NULL.
    An id given twice is listed once.
    """
    quoted = (i.replace("\\", "\\\\").replace('"', '\\"') for i in dict.fromkeys(ids))
    return "{" + ",".join(f'"{i}"' for i in quoted) + "}"


def _key_values(model: Any) -> Callable[[list[str]], peewee.Query]:
    def build(ids: list[str]) -> peewee.Query:
        query: peewee.Query = (
            model.select(model.run, model.key, model.value)
            .where(_among(model.run, ids))
            .order_by(*_by_key(model))
        )
        return query

    return build


def _latest(ids: list[str]) -> peewee.Query:
    m = LatestMetric
    columns = (m.run, m.key, m.value, m.value_kind, m.timestamp, m.step)
    return m.select(*columns).where(_among(m.run, ids)).order_by(*_by_key(m))


def _datasets(ids: list[str]) -> peewee.Query:
    d = Dataset
    columns = (d.name, d.digest, d.source_type, d.source, d.schema, d.profile)
    return (
        RunInput.select(RunInput.run, *columns, RunInput.tags_json)
        .join(Dataset)
        .where(_among(RunInput.run, ids))
        .order_by(RunInput.id)
    )


def _model_inputs(ids: list[str]) -> peewee.Query:
    m = RunModelInput
    return m.select(m.run, m.model_id).where(_among(m.run, ids)).order_by(m.model_id)


def _model_outputs(ids: list[str]) -> peewee.Query:
    m = RunModelOutput
    return m.select(m.run, m.model_id, m.step).where(_among(m.run, ids)).order_by(m.model_id)


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


def _probed(model: Any, names: tuple[str, ...]) -> str:
    """PostgreSQL: these columns of ``model``'s rows of each run in the id array, by key.

    One index probe per run (``OFFSET 0`` keeps the planner from flattening the subquery).
    For a page of 1,000 runs of 10,000 its own choice is to scan the whole table and hash
    every row's run id: 1.5 times the server's time for params, 2.5 times for tags.
    Table and column names are the model's own.
    """
    columns = [getattr(model, name).column_name for name in names]
    inner = ", ".join(f'"{column}"' for column in columns)
    outer = ", ".join(f'"p"."{column}"' for column in columns)
    return (
        f"SELECT {outer}"
        ' FROM unnest(CAST(%s AS varchar[])) AS "page" ("id") CROSS JOIN LATERAL'
        f' (SELECT {inner} FROM "{model._meta.table_name}"'
        f' WHERE "{model.run.column_name}" = "page"."id" OFFSET 0) AS "p"'
        ' ORDER BY "p"."key"'
    )


_PROBED = {
    "params": lambda: _probed(Param, ("run", "key", "value")),
    "tags": lambda: _probed(RunTag, ("run", "key", "value")),
    "metrics": lambda: _probed(
        LatestMetric, ("run", "key", "value", "value_kind", "timestamp", "step")
    ),
}


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
_RARE = ("dataset_inputs", "model_inputs", "model_outputs")
_RARE_TABLES: dict[str, Any] = {
    "dataset_inputs": RunInput,
    "model_inputs": RunModelInput,
    "model_outputs": RunModelOutput,
}


def tables_with_rows(run_ids: list[str]) -> set[str]:
    """Which of ``dataset_inputs``, ``model_inputs`` and ``model_outputs`` hold rows of these runs.

    One statement on PostgreSQL, where each statement is a round trip and a parse of the ids.
    Elsewhere the answer is all three: asking an empty table costs those engines no more.
    """
    if not run_ids or engine_name() != "postgresql":
        return set(_RARE)
    sql = _rendered.get(("postgresql", "rare", 0))
    if sql is None:
        probes = [
            peewee.fn.EXISTS(model.select(peewee.SQL("1")).where(_among(model.run, run_ids)))
            for model in _RARE_TABLES.values()
        ]
        sql, params = peewee.Select(columns=probes).bind(db).sql()
        if params != [_id_array(run_ids)] * len(_RARE):
            raise RuntimeError("the probe query has parameters besides the run ids")
        _rendered[("postgresql", "rare", 0)] = sql
    found = db.execute_sql(sql, [_id_array(run_ids)] * len(_RARE)).fetchone()
    return {name for name, present in zip(_RARE, found, strict=True) if present}


def _fetch(name: str, build: Callable[[list[str]], peewee.Query], run_ids: list[str]) -> Any:
    engine = engine_name()
    single = engine == "postgresql"
    cache_key = (engine, name, 0 if single else len(run_ids))
    args: list[Any] = [_id_array(run_ids)] if single else run_ids
    sql = _rendered.get(cache_key)
    if sql is None and single and name in _PROBED:
        sql = _rendered[cache_key] = _PROBED[name]()
    if sql is None:
        sql, params = build(run_ids).sql()
        if params != args:
            raise RuntimeError(f"the {name} query has parameters besides the run ids")
        if len(_rendered) < _RENDERED_LIMIT:
            _rendered[cache_key] = sql
    return db.execute_sql(sql, args).fetchall()
