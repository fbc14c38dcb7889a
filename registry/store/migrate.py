"""Apply numbered migrations (``modelyard db upgrade``) and check that a schema is current."""

from __future__ import annotations

import importlib
import logging
import time
from types import ModuleType

import peewee

from registry.errors import RegistryError
from registry.store import db
from registry.store.models import SchemaVersion

logger = logging.getLogger(__name__)

MIGRATIONS: tuple[tuple[int, str], ...] = (
    (1, "m0001_initial"),
    (2, "m0002_model_metric_index"),
    (3, "m0003_version_digest"),
    (4, "m0004_binary_collation"),
    (5, "m0005_auth"),
)
LATEST_VERSION = MIGRATIONS[-1][0]


class SchemaOutOfDate(RegistryError):
    """The database schema is older than this code (or missing)."""

    error_code = "SCHEMA_OUT_OF_DATE"


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
