"""Migration 14: ``latest_metrics.experiment_id`` and its ``(experiment_id, key, value)`` index.

A search of one experiment ordered by a metric read the global ``(key, value, run_id)`` index
through every experiment's rows of that key, most of them other experiments' runs where the
experiments log the same keys ("loss", "accuracy"). With the run's experiment on the row, the
``(experiment_id, key, value, run_id)`` index holds the searched experiment's values of the key
in order, and the walk reads only those. A run never changes experiment, so the copy is set once,
when the row is written. Existing rows are filled from ``runs``; the column is then NOT NULL
(a table rebuild on SQLite, as the backfill rewrites every row on the others anyway).

The ``(key, value, run_id)`` index stays: a search of several experiments reads it in order
where the experiments hold most of the key's rows, which the new index cannot give in one order.
"""

from __future__ import annotations

import peewee as pw
from playhouse.migrate import SchemaMigrator, make_index_name, migrate

_TABLE = "latest_metrics"
_COLUMN = "experiment_id"
_INDEX_COLUMNS = ["experiment_id", "key", "value", "run_id"]


def up(database: pw.Database) -> None:
    """Add the column, fill it from each row's run, make it NOT NULL, index it."""
    migrator = SchemaMigrator.from_database(database)
    migrate(migrator.add_column(_TABLE, _COLUMN, pw.IntegerField(null=True)))
    database.execute_sql(
        f'UPDATE "{_TABLE}" SET "{_COLUMN}" = (SELECT "runs"."experiment_id" FROM "runs"'
        f' WHERE "runs"."run_uuid" = "{_TABLE}"."run_id")'
        if not isinstance(database, pw.MySQLDatabase)
        # MySQL quotes names with backticks (peewee's own quoting there) and joins in UPDATE.
        else f"UPDATE `{_TABLE}` JOIN `runs` ON `runs`.`run_uuid` = `{_TABLE}`.`run_id`"
        f" SET `{_TABLE}`.`{_COLUMN}` = `runs`.`experiment_id`"
    )
    migrate(
        migrator.add_not_null(_TABLE, _COLUMN),
        migrator.add_index(_TABLE, _INDEX_COLUMNS, False),
    )


def down(database: pw.Database) -> None:
    """Drop the index and the column."""
    migrator = SchemaMigrator.from_database(database)
    migrate(
        migrator.drop_index(_TABLE, make_index_name(_TABLE, _INDEX_COLUMNS)),
        migrator.drop_column(_TABLE, _COLUMN),
    )
