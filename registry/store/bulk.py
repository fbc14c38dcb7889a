"""Multi-row INSERTs sized to the engine, with the SQL text built once per shape.

Rendering a many-row INSERT through peewee costs more than running it, so the statement for a
table, its columns and its conflict rule is written here once: ``INSERT INTO t (cols) VALUES``
followed by one placeholder group per row, and the engine's clause for a duplicate key. Values
only ever travel as parameters. A statement holds as many rows as the engine accepts:
SQLite's limit on bound variables (read from the connection), a fixed row count elsewhere
(psycopg2 and PyMySQL interpolate client side, bounded by the packet size, not a count).
On PostgreSQL a larger insert sends each column as one value and unnests them into rows,
which psycopg2 interpolates far faster than one parameter per value. On SQLite, values that
every row shares (``insert_columns``) are bound once per statement, as numbered parameters.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain, repeat
from typing import Any

import peewee

from registry.store import db, engine_name

ROWS_PER_STATEMENT = 1000
"""Rows per INSERT on PostgreSQL and MySQL (about 100 KB of SQL for a metric batch)."""
_SQLITE_OLDEST_VARIABLE_LIMIT = 999


@dataclass(frozen=True)
class Conflict:
    """What a row whose unique key exists does: nothing (``update`` empty) or overwrite columns.

    ``key`` names the conflict target (SQLite and PostgreSQL need it for an update; MySQL
    matches any unique key). ``where`` is an optional condition, in the engine's upsert
    dialect, that a row must meet to be overwritten (SQLite and PostgreSQL only). ``strict``:
    a plain INSERT, where a duplicate raises ``peewee.IntegrityError``.
    """

    key: tuple[str, ...] = ()
    update: tuple[str, ...] = ()
    where: str = ""
    strict: bool = False


IGNORE = Conflict()
STRICT = Conflict(strict=True)


def insert_rows(
    model: type[peewee.Model],
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    conflict: Conflict = IGNORE,
) -> int:
    """Insert ``rows`` (tuples in ``columns`` order) and return how many rows were written.

    ``columns`` are field names of ``model``. With ``IGNORE`` a duplicate is skipped and the
    count is the rows inserted. With an update the count is what the driver reports (MySQL
    counts an overwritten row twice), so only compare it with zero. With ``STRICT`` a
    duplicate raises ``peewee.IntegrityError``.
    """
    if not rows:
        return 0
    engine = engine_name()
    per_statement = _rows_per_statement(engine, len(columns))
    written = 0
    for start in range(0, len(rows), per_statement):
        chunk = rows[start : start + per_statement]
        if engine == "postgresql" and conflict == IGNORE and len(chunk) >= UNNEST_MIN_ROWS:
            written += _insert_new_rows_postgresql(model, tuple(columns), chunk)
            continue
        cursor = db.execute_sql(*_statement(engine, model, tuple(columns), conflict, chunk))
        written += max(cursor.rowcount, 0)
    return written


def insert_columns(
    model: type[peewee.Model],
    shared: dict[str, Any],
    columns: dict[str, Sequence[Any]],
    conflict: Conflict = IGNORE,
) -> int:
    """``insert_rows`` for rows given a column at a time; returns what ``insert_rows`` returns.

    One row per position of ``columns`` (field names of ``model`` to sequences of one length),
    each row also holding ``shared``'s values (field names to values).

    On SQLite each shared value is one parameter of the statement, not one per row: binding
    parameters is a good part of the cost of a large INSERT.
    """
    varying = list(columns.values())
    count = len(varying[0]) if varying else 0
    if not count:
        return 0
    names = (*shared, *columns)
    engine = engine_name()
    if engine != "sqlite":
        repeated = (repeat(value, count) for value in shared.values())
        rows = list(zip(*repeated, *varying, strict=True))
        return insert_rows(model, names, rows, conflict)
    prefix, group, suffix = _statement_parts(engine, model, names, conflict, len(shared))
    per_statement = max(1, (_sqlite_variable_limit() - len(shared)) // len(varying))
    written = 0
    for start in range(0, count, per_statement):
        chunk = (
            varying
            if count <= per_statement
            else [c[start : start + per_statement] for c in varying]
        )
        size = len(chunk[0])
        parameters = [*shared.values(), *chain.from_iterable(zip(*chunk, strict=True))]
        cursor = db.execute_sql(_values_sql(prefix, group, suffix, size), parameters)
        written += max(cursor.rowcount, 0)
    return written


@lru_cache(maxsize=32)
def _values_sql(prefix: str, group: str, suffix: str, rows: int) -> str:
    # The same text object for the same statement: SQLite's statement cache hashes it.
    return prefix + ", ".join([group] * rows) + suffix


def _statement(
    engine: str,
    model: type[peewee.Model],
    columns: tuple[str, ...],
    conflict: Conflict,
    rows: Sequence[Sequence[Any]],
) -> tuple[str, list[Any]]:
    if engine == "postgresql" and len(rows) >= UNNEST_MIN_ROWS:
        statement = _unnest_statement(model, columns, conflict, rows)
        if statement is not None:
            return statement
    prefix, group, suffix = _statement_parts(engine, model, columns, conflict)
    return _values_sql(prefix, group, suffix, len(rows)), list(chain.from_iterable(rows))


_SAVEPOINT = '"bulk_insert"'


def _insert_new_rows_postgresql(
    model: type[peewee.Model], columns: tuple[str, ...], rows: Sequence[Sequence[Any]]
) -> int:
    # ON CONFLICT DO NOTHING makes PostgreSQL insert each row speculatively (probe the unique
    # index, insert, confirm): measured, 18 ms for a 1,000-point batch where a plain INSERT
    # takes 12. Nearly every batch is all new points, so the plain INSERT goes first, behind a
    # savepoint; only if it meets a duplicate (or any other refusal) is it undone and the
    # statement with ON CONFLICT DO NOTHING run instead, which skips duplicates as before and
    # raises whatever else the plain one met. Outside a transaction there is no savepoint.
    # The savepoint, the INSERT and the release travel as one query (one round trip, not
    # three): a refused INSERT stops the query there, leaving the savepoint to roll back to.
    if not db.in_transaction():
        cursor = db.execute_sql(*_statement("postgresql", model, columns, IGNORE, rows))
        return max(int(cursor.rowcount), 0)
    sql, parameters = _statement("postgresql", model, columns, STRICT, rows)
    try:
        db.execute_sql(_in_savepoint(sql), parameters)
    except peewee.IntegrityError:
        db.execute_sql(f"ROLLBACK TO SAVEPOINT {_SAVEPOINT}")
        cursor = db.execute_sql(*_statement("postgresql", model, columns, IGNORE, rows))
        db.execute_sql(f"RELEASE SAVEPOINT {_SAVEPOINT}")
        return max(int(cursor.rowcount), 0)
    return len(rows)  # a plain INSERT that succeeded stored every row


@lru_cache(maxsize=64)
def _in_savepoint(sql: str) -> str:
    return f"SAVEPOINT {_SAVEPOINT}; {sql}; RELEASE SAVEPOINT {_SAVEPOINT}"


UNNEST_MIN_ROWS = 20
"""From this many rows, a PostgreSQL insert sends each column as one value (see below)."""
_UNNEST_NUMBERS: dict[str, tuple[str, Callable[[Any], str]]] = {
    "DOUBLE": ("float8", float.__repr__),
    "SMALLINT": ("int2", int.__repr__),
    "INT": ("int4", int.__repr__),
    "BIGINT": ("int8", int.__repr__),
}
_UNNEST_TEXT = frozenset({"VARCHAR", "TEXT"})


def _unnest_statement(
    model: type[peewee.Model],
    columns: tuple[str, ...],
    conflict: Conflict,
    rows: Sequence[Sequence[Any]],
) -> tuple[str, list[Any]] | None:
    # psycopg2 quotes every parameter in Python: a 1000-row metric INSERT spent more CPU
    # interpolating its 6000 values than the server spent storing them. Here a number column
    # travels as one comma-joined text (exact: repr of a float round-trips) cast to an array,
    # and a text column as its distinct values (a single one as a scalar) with each row's
    # position among them, all unnested into rows. None when a column or value does not fit
    # (a nullable number, a value of another type): the caller writes VALUES instead.
    fields = model._meta.fields
    # The SELECT list's values come first in the statement, then the unnested arrays.
    selected: list[Any] = []
    unnested: list[str] = []
    shape: list[str] = []
    for name, values in zip(columns, zip(*rows, strict=True), strict=True):
        field = fields[name]
        if field.field_type in _UNNEST_TEXT:
            try:
                distinct = list(dict.fromkeys(values))
            except TypeError:  # an unhashable value
                return None
            if not all(type(value) is str or value is None for value in distinct):
                return None
            if len(distinct) == 1:
                shape.append("")
                selected.append(distinct[0])
                continue
            position = {value: str(number) for number, value in enumerate(distinct, 1)}
            shape.append("text")
            selected.append(distinct)
            unnested.append(",".join(map(position.__getitem__, values)))
        elif field.field_type in _UNNEST_NUMBERS and not field.null:
            cast, text = _UNNEST_NUMBERS[field.field_type]
            try:
                unnested.append(",".join(map(text, values)))
            except TypeError:
                return None
            shape.append(cast)
        else:
            return None
    if not unnested:
        return None
    return _unnest_sql(model, columns, conflict, tuple(shape)), selected + unnested


@lru_cache(maxsize=64)
def _unnest_sql(
    model: type[peewee.Model], columns: tuple[str, ...], conflict: Conflict, shape: tuple[str, ...]
) -> str:
    # shape per column: "" a scalar, "text" distinct values and positions, else a number cast.
    prefix, _group, suffix = _statement_parts("postgresql", model, columns, conflict)
    selected: list[str] = []
    unnested: list[str] = []
    for kind in shape:
        if not kind:
            selected.append("%s::text")
            continue
        alias = f"u.c{len(unnested)}"
        if kind == "text":
            selected.append(f"(%s::text[])[{alias}]")
            unnested.append("string_to_array(%s, ',')::int4[]")
        else:
            # + 0 turns -0 into 0, as the VALUES path's numeric literal -0.0 does.
            selected.append(f"{alias} + 0" if kind == "float8" else alias)
            unnested.append(f"string_to_array(%s, ',')::{kind}[]")
    aliases = ", ".join(f"c{number}" for number in range(len(unnested)))
    head = prefix.removesuffix(" VALUES ")
    return (
        f"{head} SELECT {', '.join(selected)} FROM unnest({', '.join(unnested)}) AS u({aliases})"
        + suffix
    )


def _rows_per_statement(engine: str, width: int) -> int:
    if engine != "sqlite":
        return ROWS_PER_STATEMENT
    return max(1, _sqlite_variable_limit() // width)


@lru_cache(maxsize=1)
def _sqlite_variable_limit() -> int:
    # SQLite >= 3.32 allows 32,766 bound variables by default; older builds 999.
    probe = sqlite3.connect(":memory:")
    try:
        return int(probe.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER))
    except AttributeError:  # Python < 3.11 cannot ask
        return _SQLITE_OLDEST_VARIABLE_LIMIT
    finally:
        probe.close()


@lru_cache(maxsize=256)
def _statement_parts(
    engine: str,
    model: type[peewee.Model],
    columns: tuple[str, ...],
    conflict: Conflict,
    shared: int = 0,
) -> tuple[str, str, str]:
    # shared (SQLite only): the first columns take the statement's first parameters, ?1, ?2...,
    # in every row; a plain ? after them numbers on from the highest number so far.
    quote = '"' if engine != "mysql" else "`"
    param = "?" if engine == "sqlite" else "%s"
    fields = model._meta.fields

    def name(field_name: str) -> str:
        return f"{quote}{fields[field_name].column_name}{quote}"

    table = f"{quote}{model._meta.table_name}{quote}"
    column_list = ", ".join(name(column) for column in columns)
    numbered = [f"?{number}" for number in range(1, shared + 1)]
    group = "(" + ", ".join(numbered + [param] * (len(columns) - shared)) + ")"
    verb = "INSERT"
    suffix = ""
    if conflict.strict:
        pass
    elif not conflict.update:
        if engine == "sqlite":
            verb = "INSERT OR IGNORE"
        elif engine == "mysql":
            verb = "INSERT IGNORE"
        else:
            suffix = " ON CONFLICT DO NOTHING"
    elif engine == "mysql":
        assignments = ", ".join(f"{name(c)} = VALUES({name(c)})" for c in conflict.update)
        suffix = f" ON DUPLICATE KEY UPDATE {assignments}"
    else:
        target = ", ".join(name(column) for column in conflict.key)
        assignments = ", ".join(f"{name(c)} = excluded.{name(c)}" for c in conflict.update)
        suffix = f" ON CONFLICT ({target}) DO UPDATE SET {assignments}"
        if conflict.where:
            suffix += f" WHERE {conflict.where}"
    return f"{verb} INTO {table} ({column_list}) VALUES ", group, suffix
