"""Migration 10: an index on ``registry_events.model_id``.

Deleting a model clears ``model_id`` on its events (so a later model that reuses the id, as
SQLite does, cannot read them, and a permission that went with the model cannot stop guarding
them); this index makes that update touch only the model's events, not the whole stream.
"""

from __future__ import annotations

import peewee as pw
from playhouse.migrate import SchemaMigrator, make_index_name, migrate

_TABLE = "registry_events"
_COLUMNS = ("model_id",)


def up(database: pw.Database) -> None:
    """Add the index."""
    migrate(SchemaMigrator.from_database(database).add_index(_TABLE, _COLUMNS, False))


def down(database: pw.Database) -> None:
    """Drop the index."""
    migrator = SchemaMigrator.from_database(database)
    migrate(migrator.drop_index(_TABLE, make_index_name(_TABLE, _COLUMNS)))
