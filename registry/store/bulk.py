"""Multi-row INSERTs sized to the engine, with the SQL text built once per shape.

Rendering a many-row INSERT through peewee costs more than running it, so the statement for a
table, its columns and its conflict rule is written here once: ``INSERT INTO t (cols) VALUES``
followed by one placeholder group per row, and the engine's clause for a duplicate key. Values
only ever travel as parameters. A statement holds as many rows as the engine accepts:
SQLite's limit on bound variables (read from the connection), a fixed row count elsewhere
(psycopg2 and PyMySQL interpolate client side, bounded by the packet size, not a count).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
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
    prefix, group, suffix = _statement_parts(engine, model, tuple(columns), conflict)
    written = 0
    for start in range(0, len(rows), per_statement):
        chunk = rows[start : start + per_statement]
        sql = prefix + ", ".join([group] * len(chunk)) + suffix
        params = [value for row in chunk for value in row]
        cursor = db.execute_sql(sql, params)
        written += max(cursor.rowcount, 0)
    return written


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
    engine: str, model: type[peewee.Model], columns: tuple[str, ...], conflict: Conflict
) -> tuple[str, str, str]:
    quote = '"' if engine != "mysql" else "`"
    param = "?" if engine == "sqlite" else "%s"
    fields = model._meta.fields

    def name(field_name: str) -> str:
        return f"{quote}{fields[field_name].column_name}{quote}"

    table = f"{quote}{model._meta.table_name}{quote}"
    column_list = ", ".join(name(column) for column in columns)
    group = "(" + ", ".join([param] * len(columns)) + ")"
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
