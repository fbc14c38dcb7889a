"""Real test databases: a SQLite file per test, and a throwaway PostgreSQL / MariaDB database
per test session (so parallel sessions on one machine never share tables).

Servers are found at ``REGISTRY_TEST_POSTGRES_URL`` / ``REGISTRY_TEST_MYSQL_URL`` (defaults: the
machine's 127.0.0.1 servers). Outside CI an absent server skips its tests; with ``CI=true`` it is
a failure.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

POSTGRES_URL = os.environ.get("REGISTRY_TEST_POSTGRES_URL", "postgresql://root@127.0.0.1:5432/test")
MYSQL_URL = os.environ.get("REGISTRY_TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306/test")
IN_CI = os.environ.get("CI", "").lower() == "true"

TRUNCATE_ORDER = (
    "webhook_deliveries",
    "webhooks",
    "webhook_cursor",
    "transition_request_reviews",
    "transition_requests",
    "registered_model_approval_policies",
    "user_group_members",
    "registry_events",
    "registry_event_sequence",
    "audit_log",
    "api_tokens",
    "experiment_permissions",
    "registered_model_permissions",
    "registered_model_protections",
    "users",
    "transitions",
    "registered_model_aliases",
    "model_version_tags",
    "model_versions",
    "registered_model_tags",
    "registered_models",
    "logged_model_params",
    "logged_model_tags",
    "logged_models",
    "run_model_outputs",
    "run_model_inputs",
    "run_inputs",
    "datasets",
    "latest_metrics",
    "metrics",
    "run_tags",
    "params",
    "runs",
    "experiment_tags",
)


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def unavailable(engine: str, err: Exception) -> None:
    """Skip (or, in CI, fail) because a database server is not reachable."""
    message = f"{engine} server not reachable ({err}); set REGISTRY_TEST_{engine.upper()}_URL"
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


@contextmanager
def throwaway_database(engine: str) -> Iterator[str]:
    """Create a uniquely named database on the engine's server; drop it afterwards."""
    name = f"modelyard_t_{uuid.uuid4().hex[:12]}"
    if engine == "postgres":
        import psycopg2

        admin = psycopg2.connect(POSTGRES_URL)
        admin.autocommit = True
        admin.cursor().execute(f'CREATE DATABASE "{name}"')
        try:
            yield _with_database(POSTGRES_URL, name)
        finally:
            admin.cursor().execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.close()
    else:
        import pymysql

        parts = urlsplit(MYSQL_URL)
        admin = pymysql.connect(
            host=parts.hostname,
            port=parts.port or 3306,
            user=parts.username or "root",
            password=parts.password or "",
            autocommit=True,
        )
        admin.cursor().execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
        try:
            yield _with_database(MYSQL_URL, name)
        finally:
            admin.cursor().execute(f"DROP DATABASE IF EXISTS `{name}`")
            admin.close()


def truncate_all(engine: str, url: str) -> None:
    """Empty every table of the database at ``url`` but the schema versions and the Default
    experiment."""
    from registry.store import close_database, db, open_database, use_database
    from registry.store.models import Experiment

    database = open_database(url)
    with use_database(database), database.connection_context():
        if engine == "postgres":
            tables = ", ".join(f'"{t}"' for t in TRUNCATE_ORDER)
            db.execute_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
        else:
            # DELETE, not TRUNCATE: on MariaDB a TRUNCATE is DDL and costs ~20 ms a table.
            db.execute_sql("SET FOREIGN_KEY_CHECKS = 0")
            for table in TRUNCATE_ORDER:
                db.execute_sql(f"DELETE FROM `{table}`")
            db.execute_sql("SET FOREIGN_KEY_CHECKS = 1")
        Experiment.delete().where(Experiment.experiment_id != 0).execute()
        if not Experiment.select().where(Experiment.experiment_id == 0).exists():
            _recreate_default_experiment(engine)
        Experiment.update(name="Default", lifecycle_stage="active", deleted_time=None).where(
            Experiment.experiment_id == 0
        ).execute()
    close_database(database)


def _recreate_default_experiment(engine: str) -> None:
    # A test that deleted the Default experiment (as the migration made it) gets it back, so
    # the next test in this process finds experiment 0 as a new database has it.
    from registry.store import db
    from registry.store.models import Experiment

    if engine != "postgres":
        # MySQL reads an explicit 0 in an auto-increment column as "next value" unless told not to.
        db.execute_sql("SET SESSION sql_mode = CONCAT(@@sql_mode, ',NO_AUTO_VALUE_ON_ZERO')")
    Experiment.insert(
        experiment_id=0,
        name="Default",
        artifact_location="mlflow-artifacts:/0",
        lifecycle_stage="active",
        creation_time=0,
        last_update_time=0,
    ).execute()


@contextmanager
def migrated_database(engine: str, workdir: Path) -> Iterator[str]:
    """A new database on ``engine`` with every migration applied; dropped afterwards.

    ``engine`` is ``sqlite`` (a file in ``workdir``), ``postgres`` or ``mysql`` (a throwaway
    database on the machine's server; skipped, or failed in CI, when the server is absent).
    """
    from registry.store import db, open_database
    from registry.store.migrate import upgrade

    def migrate(url: str) -> None:
        database = open_database(url)
        with database.connection_context():
            upgrade()
        getattr(database, "close_all", database.close)()

    if engine == "sqlite":
        url = f"sqlite:///{workdir / 'shared.db'}"
        migrate(url)
        yield url
        return
    try:
        context = throwaway_database(engine)
        url = context.__enter__()
    except Exception as err:
        unavailable(engine, err)
    try:
        migrate(url)
        yield url
    finally:
        if db.obj is not None:
            getattr(db.obj, "close_all", db.obj.close)()
        context.__exit__(None, None, None)
