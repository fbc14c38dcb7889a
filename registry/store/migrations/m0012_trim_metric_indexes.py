"""Migration 12: fewer index entries for each stored metric point.

``metrics(run_id)`` (the index peewee gave the foreign key) is the leading column of the unique
``(run_id, key, step, timestamp, value, value_kind)`` index, and ``metrics(model_id)`` the leading
column of migration 2's ``(model_id, key, step, timestamp)``: every query and foreign-key check
that could use the short index uses the long one as well. Both are dropped.

Most points belong to no logged model (``model_id`` is NULL), yet each had an entry in the
``model_id`` index. On SQLite and PostgreSQL that index becomes partial (``WHERE model_id IS NOT
NULL``): every query that uses it compares ``model_id`` (``=``, ``IN``, ``IS NOT NULL``), which
both planners know excludes NULL. MySQL has no partial indexes; it keeps the full one. Each index
costs every stored point a b-tree insert, and log-batch stores up to 1,000 points a call.
"""

from __future__ import annotations

import peewee as pw
from playhouse.migrate import SchemaMigrator, make_index_name, migrate

_TABLE = "metrics"
_COVERED = (("run_id",), ("model_id",))
_MODEL_COLUMNS = ("model_id", "key", "step", "timestamp")
_MODEL_INDEX = make_index_name(_TABLE, list(_MODEL_COLUMNS))


def _partial_capable(database: pw.Database) -> bool:
    return isinstance(database, (pw.SqliteDatabase, pw.PostgresqlDatabase))


def _model_index(database: pw.Database, where: str) -> None:
    columns = ", ".join(f'"{column}"' for column in _MODEL_COLUMNS)
    database.execute_sql(f'DROP INDEX "{_MODEL_INDEX}"')
    database.execute_sql(f'CREATE INDEX "{_MODEL_INDEX}" ON "{_TABLE}" ({columns}){where}')


def up(database: pw.Database) -> None:
    """Drop the covered indexes where they exist; make the model index partial where possible."""
    present = {index.name for index in database.get_indexes(_TABLE)}
    migrator = SchemaMigrator.from_database(database)
    names = [make_index_name(_TABLE, list(columns)) for columns in _COVERED]
    migrate(*(migrator.drop_index(_TABLE, name) for name in names if name in present))
    if _partial_capable(database):
        _model_index(database, ' WHERE "model_id" IS NOT NULL')


def down(database: pw.Database) -> None:
    """Add them back, and the model index whole."""
    migrator = SchemaMigrator.from_database(database)
    migrate(*(migrator.add_index(_TABLE, columns, False) for columns in _COVERED))
    if _partial_capable(database):
        _model_index(database, "")
