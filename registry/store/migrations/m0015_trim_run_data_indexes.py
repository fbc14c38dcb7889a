"""Migration 15: fewer index entries for each created run and each param, tag and latest metric.

``params``, ``run_tags`` and ``latest_metrics`` have the primary key ``(run_id, key)``, and peewee
also gave the foreign key its own ``(run_id)`` index; ``runs(experiment_id)`` (the same for the
experiment) is the leading column of ``(experiment_id, lifecycle_stage, start_time)``. Every query
that could use the short index uses the long one as well: a run's params, tags or latest metrics
by ``run_id``, an experiment's runs by ``experiment_id``, and the lookups behind ``ON DELETE
CASCADE`` from ``runs`` and ``experiments`` (SQLite and PostgreSQL plan those as ordinary
``WHERE run_id = ?`` queries; MySQL needs an index whose leftmost column is the foreign key's,
which the long one is, so it lets the short one go). The four are dropped: each cost every
created run or every logged param, tag and latest metric a b-tree insert.
"""

from __future__ import annotations

import peewee as pw
from playhouse.migrate import SchemaMigrator, make_index_name, migrate

_COVERED = (
    ("params", ("run_id",)),
    ("run_tags", ("run_id",)),
    ("latest_metrics", ("run_id",)),
    ("runs", ("experiment_id",)),
)


def up(database: pw.Database) -> None:
    """Drop the covered indexes where they exist."""
    migrator = SchemaMigrator.from_database(database)
    operations = []
    for table, columns in _COVERED:
        name = make_index_name(table, list(columns))
        if name in {index.name for index in database.get_indexes(table)}:
            operations.append(migrator.drop_index(table, name))
    migrate(*operations)


def down(database: pw.Database) -> None:
    """Add them back."""
    migrator = SchemaMigrator.from_database(database)
    migrate(*(migrator.add_index(table, columns, False) for table, columns in _COVERED))
