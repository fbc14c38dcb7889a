"""Migration 2: an index for a logged model's metrics.

``metrics(model_id, key, step, timestamp)`` serves a logged model's latest metric per key
(foreign keys such as ``run_inputs.dataset_id`` are indexed since migration 1). Indexes on (key, value) of params
and tags were considered and left out: PostgreSQL's btree rejects rows over ~2.7 kB (param values
may be 6,000 characters) and MySQL cannot index TEXT without a prefix.
"""

from __future__ import annotations

import peewee as pw
from playhouse.migrate import SchemaMigrator, make_index_name, migrate

_INDEXES = (("metrics", ("model_id", "key", "step", "timestamp")),)


def up(database: pw.Database) -> None:
    """Add the indexes."""
    migrator = SchemaMigrator.from_database(database)
    migrate(*(migrator.add_index(table, columns, False) for table, columns in _INDEXES))


def down(database: pw.Database) -> None:
    """Drop the indexes."""
    migrator = SchemaMigrator.from_database(database)
    migrate(
        *(
            migrator.drop_index(table, make_index_name(table, columns))
            for table, columns in _INDEXES
        )
    )
