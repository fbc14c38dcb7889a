"""Migration 11: ``(key, left(value, 256) COLLATE "C")`` on params and run tags (PostgreSQL).

A search ordered by a param or tag reads the runs that have it in value order
(``filters.run_pages``). SQLite walks migration 9's ``(key, value, run_id)`` index; PostgreSQL
cannot index the whole value (its btree rejects an entry over ~2.7 kB, and a param may hold
6,000 characters), so it indexes the first 256 characters, compared by code point as the search
sorts them. The search orders by that prefix, then the whole value: the index gives the first
order, an incremental sort the ties, and the query stops after a page.
"""

from __future__ import annotations

import peewee as pw

PREFIX = 256
_TABLES = ("params", "run_tags")


def _name(table: str) -> str:
    return f"{table}_key_value_prefix"


def up(database: pw.Database) -> None:
    """Add the indexes (PostgreSQL only)."""
    if not isinstance(database, pw.PostgresqlDatabase):
        return
    for table in _TABLES:
        database.execute_sql(
            f'CREATE INDEX "{_name(table)}" ON "{table}" '
            f'("key", (left("value", {PREFIX}) COLLATE "C"))'
        )


def down(database: pw.Database) -> None:
    """Drop the indexes (PostgreSQL only)."""
    if not isinstance(database, pw.PostgresqlDatabase):
        return
    for table in _TABLES:
        database.execute_sql(f'DROP INDEX IF EXISTS "{_name(table)}"')
