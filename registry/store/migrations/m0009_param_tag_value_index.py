"""Migration 9: ``(key, value, run_id)`` indexes on params and run tags, on SQLite only.

A filter such as ``params.model = 'ridge'`` becomes ``run_uuid IN (SELECT run_id FROM params
WHERE key = ? AND value = ?)``. With only the ``(key, run_id)`` index SQLite reads every row of
the key to test its value (~220 ms for the runs table's match count at 100,000 runs); this
covering index answers it from the index alone.

PostgreSQL and MariaDB are left as they are (the reasons migration 2 gave still hold):
PostgreSQL's btree rejects an entry over ~2.7 kB, so an index on ``value`` would make logging a
long param (up to 6,000 characters) or tag (8,000) fail; MariaDB indexes TEXT only by a prefix,
which ``playhouse.migrate`` cannot declare, and the ``BINARY`` re-check of exact matches would
still read each row.
"""

from __future__ import annotations

import peewee as pw
from playhouse.migrate import SchemaMigrator, make_index_name, migrate

_INDEXES = (
    ("params", ("key", "value", "run_id")),
    ("run_tags", ("key", "value", "run_id")),
)


def up(database: pw.Database) -> None:
    """Add the indexes (SQLite only)."""
    if not isinstance(database, pw.SqliteDatabase):
        return
    migrator = SchemaMigrator.from_database(database)
    migrate(*(migrator.add_index(table, columns, False) for table, columns in _INDEXES))


def down(database: pw.Database) -> None:
    """Drop the indexes (SQLite only)."""
    if not isinstance(database, pw.SqliteDatabase):
        return
    migrator = SchemaMigrator.from_database(database)
    migrate(
        *(
            migrator.drop_index(table, make_index_name(table, columns))
            for table, columns in _INDEXES
        )
    )
