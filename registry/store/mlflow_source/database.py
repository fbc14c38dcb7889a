"""Read an MLflow backend database (SQLite, PostgreSQL, MySQL) read-only, in one snapshot.

The database is opened read-only where the engine allows it (SQLite ``mode=ro``, a ``READ ONLY``
transaction elsewhere) and every read happens inside one transaction: REPEATABLE READ on
PostgreSQL, a consistent snapshot on MySQL, one read transaction on SQLite. A schema revision we
do not know is refused before anything is read.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import peewee
from playhouse import db_url

from registry.errors import InvalidParameter
from registry.store import sqlite_path
from registry.store.imports import (
    ImportedExperiment,
    ImportedModelVersion,
    ImportedRegisteredModel,
)
from registry.store.mlflow_source import schema as ml
from registry.store.mlflow_source.rows import chunked, execute, fetch
from registry.store.mlflow_source.runs import RunReading

DATABASE_SCHEMES = ("sqlite", "postgresql", "postgres", "mysql")


def is_database_uri(uri: str) -> bool:
    """True when ``uri`` names a database MLflow can use as its backend store."""
    return urlsplit(uri).scheme.split("+")[0] in DATABASE_SCHEMES


def open_mlflow_database(uri: str, workspace: str = "default") -> MlflowDatabase:
    """Open MLflow's backend store at ``uri`` read-only and start the snapshot.

    Raises:
        InvalidParameter: the URI is not a database, the file is missing, it is not an MLflow
            database, or its schema revision is not one we support.
    """
    scheme = urlsplit(uri).scheme.split("+")[0]
    database: peewee.Database
    if scheme == "sqlite":
        path = Path(sqlite_path(uri))
        if not path.is_file():
            raise InvalidParameter(f"No MLflow database file at {path}.")
        database = peewee.SqliteDatabase(f"file:{quote(str(path.resolve()))}?mode=ro", uri=True)
    elif scheme in ("postgresql", "postgres", "mysql"):
        parts = urlsplit(uri)
        plain = urlunsplit((scheme, parts.netloc, parts.path, parts.query, parts.fragment))
        extra = {"charset": "utf8mb4"} if scheme == "mysql" else {}
        database = db_url.connect(plain, **extra)  # type: ignore[no-untyped-call]
    else:
        raise InvalidParameter(f"Not an MLflow database URI: {uri!r}.")
    return MlflowDatabase(database, _without_password(uri), workspace)


def _without_password(uri: str) -> str:
    parts = urlsplit(uri)
    if parts.password is None:
        return uri
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


class MlflowDatabase(RunReading):
    """An ``MlflowSource`` over MLflow's own tables, read in one snapshot transaction."""

    def __init__(self, database: peewee.Database, description: str, workspace: str) -> None:
        self.description = description
        self._database = database
        self._workspace = workspace
        self._binding = database.bind_ctx(ml.ALL, bind_refs=False, bind_backrefs=False)
        try:
            database.connect()
        except peewee.DatabaseError as err:
            raise InvalidParameter(f"Cannot open {description}: {err}") from None
        self._begin()
        self._binding.__enter__()  # type: ignore[no-untyped-call]
        try:
            self.revision = self._check_revision()
            self._columns = {
                table: {column.name for column in database.get_columns(table)}
                for table in ("experiments", "inputs")
            }
            self._has_logged_models = database.table_exists("logged_models")
        except BaseException:
            self.close()
            raise
        self._experiment_ids = [e.experiment_id for e in self.experiments()]

    def _begin(self) -> None:
        if isinstance(self._database, peewee.PostgresqlDatabase):
            execute(self._database, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        elif isinstance(self._database, peewee.MySQLDatabase):
            execute(self._database, "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            execute(self._database, "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY")
        else:
            execute(self._database, "BEGIN")

    def _check_revision(self) -> str:
        if not self._database.table_exists("alembic_version"):
            raise InvalidParameter(f"{self.description} is not an MLflow database.")
        revision = str(ml.AlembicVersion.select(ml.AlembicVersion.version_num).scalar() or "")
        supported = [rev for rev, _ in ml.SUPPORTED_REVISIONS]
        if revision not in supported:
            raise InvalidParameter(
                f"MLflow database schema revision {revision!r} is not supported; supported"
                f" revisions (MLflow 2.4 to 3.17.2): {', '.join(supported)}.",
                revision=revision,
                supported=supported,
            )
        return revision

    def close(self) -> None:
        """End the snapshot and close the connection."""
        if self._database.is_closed():
            return
        try:
            execute(self._database, "ROLLBACK")
        finally:
            self._binding.__exit__(None, None, None)
            self._database.close()

    def _in_workspace(self, model: Any) -> Any:
        if "workspace" in self._columns["experiments"]:
            return model.workspace == self._workspace
        return peewee.SQL("1 = 1")

    # --- tracking -------------------------------------------------------------------------------

    def experiments(self) -> list[ImportedExperiment]:
        """Every experiment of the workspace with its tags."""
        e = ml.Experiment
        query = e.select(
            e.experiment_id,
            e.name,
            e.artifact_location,
            e.lifecycle_stage,
            e.creation_time,
            e.last_update_time,
        ).where(self._in_workspace(e))
        rows = fetch(query.order_by(e.experiment_id))
        tags: dict[int, dict[str, str]] = defaultdict(dict)
        t = ml.ExperimentTag
        ids = [row[0] for row in rows]
        for experiment_id, key, value in chunked(
            ids, lambda c: t.select(t.experiment_id, t.key, t.value).where(t.experiment_id.in_(c))
        ):
            tags[experiment_id][key] = value or ""
        return [
            ImportedExperiment(
                int(i), name, location or "", stage or "active", created or 0, updated or 0, tags[i]
            )
            for i, name, location, stage, created, updated in rows
        ]

    # --- registry -------------------------------------------------------------------------------

    def registered_models(self, since: int | None) -> list[ImportedRegisteredModel]:
        """The workspace's registered models with tags and aliases."""
        rm, t, a = ml.RegisteredModel, ml.RegisteredModelTag, ml.RegisteredModelAlias
        query = rm.select(rm.name, rm.description, rm.creation_time, rm.last_updated_time).where(
            self._in_workspace(rm)
        )
        if since is not None:
            query = query.where(rm.last_updated_time >= since)
        rows = fetch(query.order_by(rm.name))
        names = [row[0] for row in rows]
        tags: dict[str, dict[str, str]] = defaultdict(dict)
        for name, key, value in chunked(
            names,
            lambda c: t.select(t.name, t.key, t.value).where(t.name.in_(c) & self._in_workspace(t)),
        ):
            tags[name][key] = value or ""
        aliases: dict[str, dict[str, int]] = defaultdict(dict)
        for name, alias, version in chunked(
            names,
            lambda c: a.select(a.name, a.alias_name, a.version).where(
                a.name.in_(c) & self._in_workspace(a)
            ),
        ):
            aliases[name][alias] = int(version)
        return [
            ImportedRegisteredModel(
                name, description or "", created or 0, updated or 0, tags[name], aliases[name]
            )
            for name, description, created, updated in rows
        ]

    def model_versions(self, name: str) -> list[ImportedModelVersion]:
        """Every version of ``name`` (tombstones included) with its tags."""
        v, t = ml.ModelVersion, ml.ModelVersionTag
        query = v.select(
            v.version,
            v.description,
            v.user_id,
            v.creation_time,
            v.last_updated_time,
            v.current_stage,
            v.source,
            v.run_id,
            v.run_link,
            v.status,
            v.status_message,
        ).where((v.name == name) & self._in_workspace(v))
        tags: dict[int, dict[str, str]] = defaultdict(dict)
        tag_query = t.select(t.version, t.key, t.value).where(
            (t.name == name) & self._in_workspace(t)
        )
        for version, key, value in fetch(tag_query):
            tags[int(version)][key] = value or ""
        return [
            ImportedModelVersion(
                name, int(number), description or "", user or "", created or 0, updated or 0,
                stage or "None", source or "", run_id or None, link or "",
                _logged_model_id(source or ""), status or "READY", message or "",
                tags[int(number)],
            )
            for number, description, user, created, updated, stage, source, run_id, link,
            status, message in fetch(query.order_by(v.version))
        ]  # fmt: skip


def _logged_model_id(source: str) -> str | None:
    if source.startswith("models:/m-"):
        return source[len("models:/") :].split("/", 1)[0]
    return None
