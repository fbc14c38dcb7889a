"""PostgreSQL's packed metric batches: a large batch's points as one row per key (migration 17).

Storing a point as a row costs PostgreSQL a heap tuple and an entry in the unique index of
``metrics``: for 1,000-point batches that was most of log-batch's time. Packed, a batch of 10
keys is 10 rows, each holding its key's points as arrays. The view ``metric_history`` unnests
them for every reader of histories (``MetricHistory``).

The arrays travel as parameters in PostgreSQL's array text form (``{1,2,3}``), built here from
numbers only; psycopg2 adapts a Python list element by element, several times slower. Keys are
parameters too, as a text array psycopg2 quotes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from operator import itemgetter
from typing import Any

from peewee import SQL, fn

from registry.store import db, engine_name
from registry.store.models import Metric

PACK_MIN_POINTS = 100
"""Fewest points (without a model or dataset) a write needs for PostgreSQL to pack them. A
smaller write stays a row per point: a key's few points read faster from the index of
``metrics`` than unnested from many small batches."""

PACKED_INSERT = (
    "INSERT INTO metric_batches"
    " (run_id, key, steps, timestamps, metric_values, value_kinds, shadowed)"
    " SELECT %(run)s, batch.key, batch.steps::bigint[], batch.timestamps::bigint[],"
    " batch.metric_values::double precision[], batch.value_kinds::smallint[],"
    " EXISTS (SELECT 1 FROM metrics WHERE metrics.run_id = %(run)s AND metrics.key = batch.key"
    # The predicate of the partial index metrics_linked (migration 17), so that it is used.
    " AND (model_id IS NOT NULL OR dataset_name IS NOT NULL OR dataset_digest IS NOT NULL))"
    " FROM unnest(%(keys)s::text[], %(steps)s::text[], %(timestamps)s::text[],"
    " %(values)s::text[], %(kinds)s::text[])"
    " AS batch (key, steps, timestamps, metric_values, value_kinds)"
)
"""The statement that stores packed points. Its parameters: ``run``, the run id, and five text
arrays of one item per key: ``keys``, then the key's ``steps``, ``timestamps``, ``values`` and
``kinds``, each in array text form. A batch is stored ``shadowed`` when its run already has
rows of its key with a model or dataset (``metric_history`` then shows such a row rather than an
identical packed point)."""


def packs(points: int) -> bool:
    """Whether ``points`` points without links go into ``metric_batches`` on this database."""
    return points >= PACK_MIN_POINTS and engine_name() == "postgresql"


def insert_packed(
    run_id: str,
    keys: Sequence[str],
    values: Sequence[float],
    kinds: Sequence[int],
    timestamps: Sequence[int],
    steps: Sequence[int],
) -> None:
    """Store the points (parallel columns; ``values`` finite, as stored) as one row per key.

    Identical points are not merged here: ``metric_history`` shows each once.
    """
    positions: dict[str, list[int]] = {}
    for index, key in enumerate(keys):
        found = positions.get(key)
        if found is None:
            positions[key] = [index]
        else:
            found.append(index)
    texts: tuple[list[str], ...] = ([], [], [], [])
    for indexes in positions.values():
        pick = _picker(indexes)
        texts[0].append(_array(pick(steps)))
        texts[1].append(_array(pick(timestamps)))
        texts[2].append(_array(_signless_zeros(pick(values))))
        texts[3].append(_array(pick(kinds)))
    names = ("steps", "timestamps", "values", "kinds")
    db.execute_sql(
        PACKED_INSERT,
        {"run": run_id, "keys": list(positions), **dict(zip(names, texts, strict=True))},
    )


def _picker(indexes: list[int]) -> Callable[[Sequence[Any]], Sequence[Any]]:
    # The items at ``indexes``, as a sequence (itemgetter of one index returns the item alone).
    if len(indexes) == 1:
        index = indexes[0]
        return lambda column: (column[index],)
    return itemgetter(*indexes)


def _array(numbers: Sequence[Any]) -> str:
    # repr is the shortest text that reads back as the same double; ints are exact.
    return "{" + ",".join(map(repr, numbers)) + "}"


def _signless_zeros(values: Sequence[float]) -> Sequence[float]:
    # -0.0 as 0.0, as a single row's numeric literal -0.0 is stored (store.bulk).
    return [value + 0.0 for value in values] if 0.0 in values else values


def stored_point_counts(run_ids: Sequence[str], key: str) -> dict[str, int]:
    """How many points of ``key`` each run has stored (runs without any are absent).

    A count of what is stored, identical points stored twice included (PostgreSQL's packed
    batches can hold a batch sent twice): it grows with every write and never otherwise, so a
    summary drawn at one count is current while the count holds. Read from the unique index of
    ``metrics`` and, on PostgreSQL, the length of each packed batch, without unnesting them.
    """
    ids = list(run_ids)
    if engine_name() == "postgresql":
        # One statement: both counts from one snapshot.
        cursor = db.execute_sql(
            "SELECT run_id, sum(points) FROM ("
            " SELECT run_id, count(*) AS points FROM metrics"
            " WHERE run_id = ANY(%(runs)s) AND key = %(key)s GROUP BY run_id"
            " UNION ALL"
            " SELECT run_id, sum(cardinality(steps)) FROM metric_batches"
            " WHERE run_id = ANY(%(runs)s) AND key = %(key)s GROUP BY run_id"
            ") AS stored GROUP BY run_id",
            {"runs": ids, "key": key},
        )
        return {run: int(count) for run, count in cursor.fetchall()}
    rows = (
        Metric.select(Metric.run, fn.COUNT(SQL("*")))
        .where(Metric.run.in_(ids), Metric.key == key)
        .group_by(Metric.run)
    )
    return {run: int(count) for run, count in db.execute(rows)}


def shadow_packed_copies(run_id: str, points: Sequence[Sequence[Any]]) -> None:
    """Mark the run's packed batches that may hold copies of ``points`` as ``shadowed``.

    ``points`` are ``(key, step)`` of points just stored as rows with a model or dataset
    (``log_model`` links points logged before it): ``metric_history`` then shows those rows, with
    their links, rather than an identical packed point. On other engines nothing is packed.
    """
    if not points or engine_name() != "postgresql":
        return
    keys = sorted({key for key, _ in points})
    steps = sorted({step for _, step in points})
    db.execute_sql(
        "UPDATE metric_batches SET shadowed = true WHERE run_id = %s AND key = ANY(%s)"
        " AND steps && %s::bigint[] AND NOT shadowed",
        (run_id, keys, steps),
    )
