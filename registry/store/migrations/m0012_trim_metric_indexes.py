"""Migration 12: drop two metric indexes that longer ones already cover.

``metrics(run_id)`` (the index peewee gave the foreign key) is the leading column of the unique
``(run_id, key, step, timestamp, value, value_kind)`` index, and ``metrics(model_id)`` the leading
column of migration 2's ``(model_id, key, step, timestamp)``. Every query and foreign-key check
that could use the short index uses the long one as well, while each index costs every stored
point one more b-tree insert, and log-batch stores up to 1,000 points a call.
"""

from __future__ import annotations

import peewee as pw
from playhouse.migrate import SchemaMigrator, make_index_name, migrate

_TABLE = "metrics"
_COLUMNS = (("run_id",), ("model_id",))


def up(database: pw.Database) -> None:
    """Drop the covered indexes where they exist."""
    present = {index.name for index in database.get_indexes(_TABLE)}
    migrator = SchemaMigrator.from_database(database)
    names = [make_index_name(_TABLE, list(columns)) for columns in _COLUMNS]
    migrate(*(migrator.drop_index(_TABLE, name) for name in names if name in present))


def down(database: pw.Database) -> None:
    """Add them back."""
    migrator = SchemaMigrator.from_database(database)
    migrate(*(migrator.add_index(_TABLE, columns, False) for columns in _COLUMNS))
