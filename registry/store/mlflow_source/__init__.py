"""Reading another server's database: MLflow's backend store, read-only, in one snapshot.

The importers (``registry.importers``) read a source through ``open_mlflow_database`` and never
touch SQL themselves; like every other query of the project, the peewee code lives in the store.
"""

import peewee

from registry.store.mlflow_source.database import (
    DATABASE_SCHEMES,
    MlflowDatabase,
    is_database_uri,
    open_mlflow_database,
)
from registry.store.mlflow_source.schema import SUPPORTED_REVISIONS

DATABASE_ERRORS: tuple[type[Exception], ...] = (peewee.OperationalError, peewee.InterfaceError)
"""What a database that went away or refused a statement raises, for a command to report."""

__all__ = [
    "DATABASE_ERRORS",
    "DATABASE_SCHEMES",
    "SUPPORTED_REVISIONS",
    "MlflowDatabase",
    "is_database_uri",
    "open_mlflow_database",
]
