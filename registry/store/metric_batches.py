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

from registry.store import db, engine_name

PACK_MIN_POINTS = 100
"""Fewest points (without a model or dataset) a write needs for PostgreSQL to pack them. A
smaller write stays a row per point: a key's few points read faster from the index of
``metrics`` than unnested from many small batches."""

PACKED_INSERT = (
    "INSERT INTO metric_batches (run_id, key, steps, timestamps, metric_values, value_kinds)"
    " SELECT %s, batch.key, batch.steps::bigint[], batch.timestamps::bigint[],"
    " batch.metric_values::double precision[], batch.value_kinds::smallint[]"
    " FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[], %s::text[])"
    " AS batch (key, steps, timestamps, metric_values, value_kinds)"
)
"""The statement that stores packed points; its parameters: the run id, then five text arrays of
one item per key (the key, then its steps, timestamps, values and kinds in array text form)."""


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
    db.execute_sql(PACKED_INSERT, (run_id, list(positions), *texts))


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
