"""Migration 3: ``model_versions.model_digest``, the digest of a version's model directory.

Nullable: versions registered before this migration have none until
``modelyard models digest --backfill`` computes it (see docs/model-trust.md).
"""

from __future__ import annotations

import peewee as pw
from playhouse.migrate import SchemaMigrator, migrate

_TABLE = "model_versions"
_COLUMN = "model_digest"


def up(database: pw.Database) -> None:
    """Add the column."""
    migrator = SchemaMigrator.from_database(database)
    migrate(migrator.add_column(_TABLE, _COLUMN, pw.CharField(max_length=80, null=True)))


def down(database: pw.Database) -> None:
    """Drop the column."""
    migrator = SchemaMigrator.from_database(database)
    migrate(migrator.drop_column(_TABLE, _COLUMN))
