"""Apply and undo numbered migrations (``modelyard db upgrade|downgrade``); check a schema.

Each migration module has ``up(database)`` and ``down(database)``, written with peewee's own
tools (``create_tables`` on frozen models, ``playhouse.migrate`` operations) wherever they can
say the change. The ``schema_versions`` table holds one row per applied migration.
"""

from __future__ import annotations

import importlib
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType

import peewee

from registry.errors import InvalidParameter, RegistryError, TemporarilyUnavailable
from registry.store import close_database, db, open_database, use_database
from registry.store.connections import redact, url_without_password
from registry.store.models import SchemaVersion

logger = logging.getLogger(__name__)

MIGRATIONS: tuple[tuple[int, str], ...] = (
    (1, "m0001_initial"),
    (2, "m0002_model_metric_index"),
    (3, "m0003_version_digest"),
    (4, "m0004_binary_collation"),
    (5, "m0005_auth"),
    (6, "m0006_events"),
    (7, "m0007_webhooks"),
    (8, "m0008_approvals"),
    (9, "m0009_param_tag_value_index"),
    (10, "m0010_event_model_id_index"),
    (11, "m0011_param_tag_value_prefix_index"),
    (12, "m0012_trim_metric_indexes"),
    (13, "m0013_metric_previews"),
    (14, "m0014_latest_metric_experiment"),
    (15, "m0015_trim_run_data_indexes"),
    (16, "m0016_metric_run_check_per_statement"),
    (17, "m0017_packed_metric_batches"),
)
LATEST_VERSION = MIGRATIONS[-1][0]


class SchemaOutOfDate(RegistryError):
    """The database schema is older than this code (or missing)."""

    error_code = "SCHEMA_OUT_OF_DATE"


class DatabaseUnreachable(TemporarilyUnavailable):
    """The database could not be opened: server down, wrong address or credentials, no driver."""


class MigrationFailed(RegistryError):
    """A migration step failed on the database; its transaction was rolled back."""


@contextmanager
def schema_session(url: str, connect_timeout: int) -> Iterator[None]:
    """Open ``url`` for the schema functions below; close every connection on the way out.

    Messages name the database by its URL with the password masked.

    Raises:
        InvalidParameter: the URL's scheme is not supported.
        DatabaseUnreachable: the database cannot be opened.
        MigrationFailed: a statement run inside the session failed (the connection dropped, ...).
    """
    try:
        database = open_database(url, connect_timeout=connect_timeout)
        database.connect()
    except (peewee.OperationalError, peewee.InterfaceError, peewee.ImproperlyConfigured) as err:
        shown = url_without_password(url)
        raise DatabaseUnreachable(f"cannot open the database {shown}: {_reason(err)}") from None
    try:
        with use_database(database):
            yield
    except peewee.DatabaseError as err:
        raise MigrationFailed(f"the database refused the schema change: {_reason(err)}") from err
    finally:
        if not database.is_closed():
            database.close()
        close_database(database)


def _reason(err: Exception) -> str:
    text = redact(str(err).strip())
    return text.splitlines()[0] if text else type(err).__name__


def current_version() -> int:
    """The highest applied migration number, 0 for an empty database."""
    if not db.table_exists(SchemaVersion._meta.table_name):
        return 0
    row = SchemaVersion.select(peewee.fn.MAX(SchemaVersion.version)).scalar()
    return int(row or 0)


def upgrade(target: int | None = None) -> list[int]:
    """Apply pending migrations in order, up to ``target`` (default: all).

    Returns the numbers applied; empty when the schema is already there, so running it again is
    safe.
    """
    applied: list[int] = []
    for number, module_name in MIGRATIONS:
        if number <= current_version() or (target is not None and number > target):
            continue
        module = _load(module_name)
        logger.info("applying migration %s (%s)", number, module_name)
        with db.atomic():
            module.up(db.obj)
            SchemaVersion.create(
                version=number, name=module_name, applied_at=int(time.time() * 1000)
            )
        applied.append(number)
    return applied


def downgrade_plan(target: int) -> list[tuple[int, str]]:
    """The migrations ``downgrade(target)`` would undo, newest first, as ``(number, name)``.

    Raises:
        InvalidParameter: ``target`` is negative.
        SchemaOutOfDate: the database has migrations this code does not know, so it cannot
            undo them.
    """
    if target < 0:
        raise InvalidParameter(f"Cannot downgrade to version {target}: the lowest is 0.")
    version = current_version()
    if version > LATEST_VERSION:
        raise SchemaOutOfDate(
            f"The database schema is at version {version}, newer than this Modelyard knows "
            f"({LATEST_VERSION}): downgrade it with the Modelyard version that upgraded it."
        )
    return [(n, name) for n, name in reversed(MIGRATIONS) if target < n <= version]


def downgrade(target: int) -> list[int]:
    """Undo applied migrations above ``target``, newest first (0 leaves an empty database).

    Returns the numbers undone; empty when the schema is already at or below ``target``. A
    down step is as lossy as its up step was additive: the columns and tables it drops take
    their data with them.

    Raises:
        InvalidParameter: ``target`` is negative.
        SchemaOutOfDate: the database is newer than this code (see ``downgrade_plan``).
    """
    undone: list[int] = []
    for number, module_name in downgrade_plan(target):
        module = _load(module_name)
        logger.info("undoing migration %s (%s)", number, module_name)
        with db.atomic():
            # The row goes first: undoing migration 1 drops the table that holds it.
            SchemaVersion.delete().where(SchemaVersion.version == number).execute()
            module.down(db.obj)
        undone.append(number)
    return undone


def check_schema() -> None:
    """Raise unless the database has every migration applied.

    Raises:
        SchemaOutOfDate: with the command that fixes it.
    """
    version = current_version()
    if version < LATEST_VERSION:
        raise SchemaOutOfDate(
            f"The database schema is at version {version}, this server needs {LATEST_VERSION}: "
            "run `modelyard db upgrade --backend-store-uri <URI>` first."
        )
    if version > LATEST_VERSION:
        raise SchemaOutOfDate(
            f"The database schema is at version {version}, newer than this server "
            f"({LATEST_VERSION}): upgrade modelyard."
        )


def _load(module_name: str) -> ModuleType:
    return importlib.import_module(f"registry.store.migrations.{module_name}")
