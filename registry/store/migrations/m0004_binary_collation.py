"""Migration 4: exact, binary comparison of every string column on MySQL and MariaDB.

The default utf8mb4 collations compare case-, accent- and trailing-space-insensitively, so
``FRAUD-MODEL``, ``fraud-modél`` and ``"fraud-model "`` all found (and deleted) ``fraud-model``,
and a tag ``TEAM`` overwrote ``team``. Every table is converted to a binary collation that also
counts trailing spaces (NO PAD): MariaDB's ``utf8mb4_nopad_bin``, MySQL 8's ``utf8mb4_0900_bin``
(``utf8mb4_bin`` pads, so it is only the last resort, on servers that have neither). The
database's default collation changes too, so tables created by later migrations get it.

SQLite and PostgreSQL already compare strings exactly: nothing to do there. Converting rewrites
each table once (a copy on MySQL/MariaDB), so it takes time on a large ``metrics`` table.

The foreign keys are read with peewee's introspection and dropped and added with
``playhouse.migrate`` operations. Raw SQL remains where peewee has nothing to say it: listing the
server's collations, changing a database's or a table's character set and collation, and the
table that keeps the keys' definitions while they are dropped.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import peewee as pw
from playhouse.migrate import SchemaMigrator, migrate

logger = logging.getLogger(__name__)

TABLES = (
    "schema_versions",
    "experiments",
    "experiment_tags",
    "runs",
    "params",
    "run_tags",
    "metrics",
    "latest_metrics",
    "datasets",
    "run_inputs",
    "run_model_inputs",
    "run_model_outputs",
    "logged_models",
    "logged_model_tags",
    "logged_model_params",
    "registered_models",
    "registered_model_tags",
    "model_versions",
    "model_version_tags",
    "registered_model_aliases",
    "transitions",
)
"""Every table of migrations 1-3 (the names are constants, never request data)."""

_NO_PAD_BINARY = ("utf8mb4_nopad_bin", "utf8mb4_0900_bin")
_PADDED_BINARY = "utf8mb4_bin"


def up(database: pw.Database) -> None:
    """Convert every table (and the database default) to an exact binary collation."""
    if isinstance(database, pw.MySQLDatabase):
        _convert(database, binary_collation(database))


def down(database: pw.Database) -> None:
    """Go back to the server's default utf8mb4 collation.

    Fails (duplicate key) if the data now holds names that differ only in case, accents or
    trailing spaces: that is what the old collation could not store.
    """
    if isinstance(database, pw.MySQLDatabase):
        row = database.execute_sql(
            "SELECT DEFAULT_COLLATE_NAME FROM information_schema.CHARACTER_SETS"
            " WHERE CHARACTER_SET_NAME = 'utf8mb4'"
        ).fetchone()
        _convert(database, str(row[0]))


def binary_collation(database: pw.Database) -> str:
    """The first NO PAD binary utf8mb4 collation the server has, else ``utf8mb4_bin``."""
    available = {
        str(row[0])
        for row in database.execute_sql(
            "SELECT COLLATION_NAME FROM information_schema.COLLATIONS"
            " WHERE CHARACTER_SET_NAME = 'utf8mb4'"
        ).fetchall()
    }
    for name in _NO_PAD_BINARY:
        if name in available:
            return name
    logger.warning("no NO PAD binary collation on this server: trailing spaces stay ignored")
    return _PADDED_BINARY


def _convert(database: pw.Database, collation: str) -> None:
    existing = set(database.get_tables())
    # MariaDB refuses to change the collation of a column that a foreign key joins (even with
    # foreign_key_checks off), so the keys are dropped first and recreated afterwards. MySQL's DDL
    # commits as it goes, so the key definitions are saved in a table first: a conversion that
    # dies half-way (killed, lock wait timeout, full disk) is resumed by the next upgrade, which
    # recreates them from there instead of from a catalogue that no longer has them.
    keys = _saved_foreign_keys(database)
    present = {(key.table, key.name) for key in _foreign_keys(database)}
    migrator = SchemaMigrator.from_database(database)
    migrate(
        *(
            migrator.drop_foreign_key_constraint(key.table, key.column)
            for key in keys
            if (key.table, key.name) in present
        )
    )
    database.execute_sql(f"ALTER DATABASE CHARACTER SET utf8mb4 COLLATE {collation}")
    for table in TABLES:
        if table in existing:
            database.execute_sql(
                f"ALTER TABLE `{table}` CONVERT TO CHARACTER SET utf8mb4 COLLATE {collation}"
            )
    migrate(
        *(
            migrator.add_foreign_key_constraint(
                key.table,
                key.column,
                key.referenced_table,
                key.referenced_column,
                on_delete=key.on_delete,
                on_update=key.on_update,
                constraint_name=key.name,
            )
            for key in keys
        )
    )
    database.execute_sql(f"DROP TABLE `{SAVED_KEYS}`")


SAVED_KEYS = "migration_saved_foreign_keys"
"""Where the foreign keys wait while their columns are converted (dropped once they are back)."""


def _saved_foreign_keys(database: pw.Database) -> list[_ForeignKey]:
    """The keys saved by an earlier, interrupted run; else the current ones, saved now."""
    database.execute_sql(
        f"CREATE TABLE IF NOT EXISTS `{SAVED_KEYS}` (name VARCHAR(64), table_name VARCHAR(64),"
        " column_name VARCHAR(64), referenced_table VARCHAR(64), referenced_column VARCHAR(64),"
        " on_delete VARCHAR(16), on_update VARCHAR(16))"
    )
    saved = database.execute_sql(
        "SELECT name, table_name, column_name, referenced_table, referenced_column, on_delete,"
        f" on_update FROM `{SAVED_KEYS}` ORDER BY table_name, name"
    ).fetchall()
    if saved:
        return [_ForeignKey(*(str(value) for value in row)) for row in saved]
    keys = _foreign_keys(database)
    for key in keys:
        database.execute_sql(
            f"INSERT INTO `{SAVED_KEYS}` VALUES (%s, %s, %s, %s, %s, %s, %s)",
            (
                key.name,
                key.table,
                key.column,
                key.referenced_table,
                key.referenced_column,
                key.on_delete,
                key.on_update,
            ),
        )
    return keys


@dataclass(frozen=True)
class _ForeignKey:
    name: str
    table: str
    column: str
    referenced_table: str
    referenced_column: str
    on_delete: str
    on_update: str


def _foreign_keys(database: pw.Database) -> list[_ForeignKey]:
    existing = set(database.get_tables())
    keys = [
        _ForeignKey(
            str(key.name),
            table,
            key.column,
            key.dest_table,
            key.dest_column,
            str(key.on_delete),
            str(key.on_update),
        )
        for table in TABLES
        if table in existing
        for key in database.get_foreign_keys(table)
    ]
    return sorted(keys, key=lambda key: (key.table, key.name))
