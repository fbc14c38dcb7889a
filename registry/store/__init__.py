"""The database: one peewee ``DatabaseProxy`` bound at start-up to SQLite, PostgreSQL or MySQL.

Engine-specific code lives only here. Query modules (``experiments``, ``runs``, ...) import
``db`` and the models and never look at the engine.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import peewee
from playhouse import db_url
from playhouse.pool import PooledSqliteDatabase

from registry.errors import InvalidParameter, TemporarilyUnavailable

logger = logging.getLogger(__name__)

db = peewee.DatabaseProxy()

SUPPORTED_SCHEMES = ("sqlite", "postgresql", "postgres", "mysql")
POOL_WAIT_SECONDS = 30
"""How long a request waits for a free pooled connection before failing."""


def open_database(url: str, *, busy_timeout_ms: int = 30000, pool_size: int = 8) -> peewee.Database:
    """Open (lazily) the database named by ``url`` and bind the models to it.

    SQLite runs in WAL mode with a busy timeout and foreign keys on; PostgreSQL and MySQL use a
    connection pool of ``pool_size`` per process.

    Raises:
        InvalidParameter: the URL's scheme is not one we support.
    """
    scheme = urlsplit(url).scheme.split("+")[0]
    if scheme not in SUPPORTED_SCHEMES:
        raise InvalidParameter(
            f"Unsupported database URI {url!r}: use sqlite:///path, postgresql://... or mysql://..."
        )
    database: peewee.Database
    if scheme == "sqlite":
        database = _open_sqlite(url, busy_timeout_ms, pool_size)
    else:
        pooled = {"postgresql": "postgres+pool", "postgres": "postgres+pool", "mysql": "mysql+pool"}
        target = pooled[scheme] + url[len(urlsplit(url).scheme) :]
        params: dict[str, Any] = {
            "max_connections": pool_size,
            "stale_timeout": 300,
            "timeout": POOL_WAIT_SECONDS,
        }
        if scheme == "mysql":
            params["charset"] = "utf8mb4"
        database = db_url.connect(target, **params)  # type: ignore[no-untyped-call]
    _timed_execute(database)
    db.initialize(database)
    return database


def sqlite_path(url: str) -> str:
    """The file path in ``sqlite:///relative.db`` or ``sqlite:////absolute.db`` (MLflow's forms)."""
    rest = url[len("sqlite://") :]
    path = rest[1:] if rest.startswith("/") else rest
    return path.split("?")[0] or ":memory:"


def _open_sqlite(url: str, busy_timeout_ms: int, pool_size: int) -> peewee.Database:
    pragmas: dict[str, Any] = {
        "journal_mode": "wal",
        "synchronous": "normal",
        "foreign_keys": 1,
        "busy_timeout": busy_timeout_ms,
        "cache_size": -16000,
        "mmap_size": 268435456,
    }
    pragmas.update(dict(parse_qsl(urlsplit(url).query)))
    # Pooled, so a request does not close the file's last connection: SQLite checkpoints the
    # WAL on that close, which cost most of a small write's time. Pool "timeout" is the wait
    # for a free connection; SQLite's own lock wait is the busy_timeout pragma.
    return PooledSqliteDatabase(  # type: ignore[no-untyped-call]
        sqlite_path(url),
        pragmas=pragmas,
        max_connections=pool_size,
        stale_timeout=300,
        timeout=POOL_WAIT_SECONDS,
        check_same_thread=False,
    )


def engine_name() -> str:
    """``sqlite``, ``postgresql`` or ``mysql`` for the bound database."""
    obj = db.obj
    if isinstance(obj, peewee.SqliteDatabase):
        return "sqlite"
    if isinstance(obj, peewee.PostgresqlDatabase):
        return "postgresql"
    return "mysql"


@contextmanager
def write_transaction() -> Iterator[None]:
    """A transaction that takes the write lock at its start on SQLite (BEGIN IMMEDIATE).

    Taking the lock up front means two SQLite writers queue on the busy timeout instead of one of
    them failing with "database is locked" when it upgrades a read lock.
    """
    obj = db.obj
    if isinstance(obj, peewee.SqliteDatabase) and not obj.in_transaction():
        with obj.atomic("IMMEDIATE"):
            yield
    else:
        with db.atomic():
            yield


def lock_for_update(query: peewee.ModelSelect) -> peewee.ModelSelect:
    """Add ``FOR UPDATE`` where the engine has row locks (SQLite's write lock already covers it)."""
    if engine_name() == "sqlite":
        return query
    return query.for_update()


def is_operational_error(exc: BaseException) -> bool:
    """True for connection-level database failures that a retry might fix."""
    return isinstance(exc, peewee.OperationalError | peewee.InterfaceError)


def translate_operational_error(exc: BaseException) -> TemporarilyUnavailable:
    """Turn a connection-level database error into the API's 503."""
    logger.warning("database unavailable: %s", exc)
    return TemporarilyUnavailable(f"The database is unavailable: {exc}")


QueryObserver = Callable[[float], None]
_query_observers: list[QueryObserver] = []


def observe_queries(observer: QueryObserver) -> None:
    """Call ``observer(seconds)`` after every SQL statement (used for the database-time metric)."""
    if observer not in _query_observers:
        _query_observers.append(observer)


def _timed_execute(database: peewee.Database) -> None:
    execute: Callable[..., Any] = database.execute_sql

    def execute_sql(sql: str, params: Any = None, *args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, *args, **kwargs)
        finally:
            elapsed = time.perf_counter() - started
            for observer in _query_observers:
                observer(elapsed)

    database.execute_sql = execute_sql  # type: ignore[method-assign]
