"""Shared fixtures: real databases on every engine, the real app, free ports."""

from __future__ import annotations

import os
import shutil
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from registry.config import Config
from tests import databases

ENGINES = ("sqlite", "postgres", "mysql")

# Every `modelyard serve` a test starts inherits this: without it each would bind gRPC's
# default port 8081, and two at once would be refused. gRPC tests pass a free port.
os.environ.setdefault("SERVING_GRPC_PORT", "0")


@pytest.hookimpl(tryfirst=True, optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object | None:
    """With ``--dist loadgroup`` (pyproject's addopts), pytest-xdist hands out whole test files
    (a module fixture, such as a server, starts once) and keeps every test marked with one
    ``xdist_group`` on one worker."""
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadGroupScheduling

    class FileOrGroupScheduling(LoadGroupScheduling):
        def _split_scope(self, nodeid: str) -> str:
            if nodeid.rfind("@") > nodeid.rfind("]"):  # ``--dist loadgroup`` adds ``@group``
                return nodeid.rsplit("@", 1)[-1]
            return nodeid.split("::", 1)[0]

    return FileOrGroupScheduling(config, log)  # type: ignore[arg-type]


def pytest_collection_finish(session: pytest.Session) -> None:
    """Once a collected module uses the official client, build all its venvs in the background,
    concurrently, while the first tests run (tests that need one wait for its build)."""
    if "tests.mlflow_env" in sys.modules and not session.config.option.collectonly:
        from tests.mlflow_env import build_ahead

        build_ahead()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated once per session; each test gets a copy."""
    from registry.store import db, open_database
    from registry.store.migrate import upgrade

    path = tmp_path_factory.mktemp("template") / "template.db"
    database = open_database(f"sqlite:///{path}")
    with database.connection_context():
        upgrade()
        db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    database.close()
    return path


@pytest.fixture(scope="session")
def server_databases() -> Iterator[dict[str, str]]:
    """Throwaway PostgreSQL and MariaDB databases for this session, migrated, keyed by engine.

    An engine whose server is unreachable maps to the error text instead of a URL.
    """
    from registry.store import open_database
    from registry.store.migrate import upgrade

    urls: dict[str, str] = {}
    contexts = []
    for engine in ("postgres", "mysql"):
        try:
            ctx = databases.throwaway_database(engine)
            url = ctx.__enter__()
        except Exception as err:
            urls[engine] = f"error: {err}"
            continue
        contexts.append(ctx)
        database = open_database(url)
        with database.connection_context():
            upgrade()
        _close_database(database)
        urls[engine] = url
    yield urls

    for ctx in reversed(contexts):
        ctx.__exit__(None, None, None)


def _close_database(database: object) -> None:
    close_all = getattr(database, "close_all", None)
    if close_all is not None:
        close_all()
    else:
        database.close()  # type: ignore[attr-defined]


@pytest.fixture(params=ENGINES)
def db_url(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    sqlite_template: Path,
    server_databases: dict[str, str],
) -> Iterator[str]:
    """A migrated, empty database on each engine in turn (SQLite: a fresh file per test)."""
    engine = request.param
    if engine == "sqlite":
        path = tmp_path / "registry.db"
        shutil.copy(sqlite_template, path)
        yield f"sqlite:///{path}"
        return
    url = server_databases[engine]
    if url.startswith("error:"):
        databases.unavailable(engine, RuntimeError(url))
    yield url
    databases.truncate_all(engine, url)


@pytest.fixture
def sqlite_url(tmp_path: Path, sqlite_template: Path) -> str:
    """A migrated SQLite database only, for tests that are not about the engine."""
    path = tmp_path / "registry.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def artifact_root(tmp_path: Path) -> Path:
    """An empty artifact directory."""
    root = tmp_path / "artifacts"
    root.mkdir()
    return root


@pytest.fixture
def app(db_url: str, artifact_root: Path) -> Iterator[Flask]:
    """The real server app on each database engine."""
    yield from _make_app(db_url, artifact_root)


@pytest.fixture
def sqlite_app(sqlite_url: str, artifact_root: Path) -> Iterator[Flask]:
    """The real server app on SQLite only."""
    yield from _make_app(sqlite_url, artifact_root)


def _make_app(url: str, artifact_root: Path) -> Iterator[Flask]:
    from registry.server.app import create_app

    application = create_app(Config(database_url=url, artifact_root=str(artifact_root)))
    application.config["TESTING"] = True
    yield application
    _close_database(application.extensions["registry"].database)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client of the app on each engine."""
    return app.test_client()


@pytest.fixture
def sqlite_client(sqlite_app: Flask) -> FlaskClient:
    """A test client of the app on SQLite only."""
    return sqlite_app.test_client()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
