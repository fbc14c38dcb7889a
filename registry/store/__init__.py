"""The database: one peewee proxy whose target is chosen per app, on SQLite, PostgreSQL or MySQL.

Engine-specific code lives only here. Query modules (``experiments``, ``runs``, ...) import
``db`` and the models and never look at the engine.

``db`` is a ``DatabaseProxy`` whose target is context-local: inside ``use_database(database)``
(each server app binds its own database around every request) it is that database, so two apps
in one process, on any threads, never see each other's rows. Elsewhere (the CLI, scripts, tests)
it is the process default: the database ``open_database`` opened last. peewee's ``bind_ctx``
would rebind the model classes themselves, for every thread at once.

No connection crosses a ``fork()``: idle pooled connections are closed just before one, and a
child forgets any connection its parent still had in use (a SQLite file used from two processes
through one inherited connection is how it gets corrupted).
"""

from __future__ import annotations

import logging
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from contextvars import ContextVar
from typing import Any, Protocol, TypeVar
from urllib.parse import parse_qsl, urlsplit

import peewee
from playhouse import db_url
from playhouse.pool import PooledDatabase, PooledSqliteDatabase

from registry.errors import InvalidParameter
from registry.store.connections import (
    FailFastConnect,
    apply_statement_timeout,
    check_pooled_connections_locally,
    database_error,
    mark_committed,
    retry_deadlocks,
    track_pool,
)
from registry.store.wal_checkpointer import WalCheckpointer
from registry.store.writer_queue import WriterQueue, lock_path_for

__all__ = [
    "CommitHook",
    "close_database",
    "commit_hook",
    "database_error",
    "db",
    "open_database",
    "retry_deadlocks",
    "use_database",
    "write_transaction",
]

logger = logging.getLogger(__name__)

T = TypeVar("T")


class ContextDatabaseProxy(peewee.DatabaseProxy):
    """A ``DatabaseProxy`` whose target is the database bound in the current context.

    ``obj`` is what ``use_database`` bound in this thread or context, else the process default
    that ``initialize`` (called by ``open_database``) set.
    """

    __slots__ = ("_bound", "_default")

    def __init__(self) -> None:
        object.__setattr__(self, "_callbacks", [])
        object.__setattr__(self, "_default", None)
        object.__setattr__(self, "_bound", ContextVar("registry_database", default=None))

    @property
    def obj(self) -> Any:
        """The database of the current context, else the process default."""
        bound = self._bound.get()
        return self._default if bound is None else bound

    def initialize(self, obj: Any) -> None:
        """Set the process default (what contexts with no binding of their own use)."""
        object.__setattr__(self, "_default", obj)
        for callback in self._callbacks:
            callback(obj)

    @contextmanager
    def bound_to(self, database: peewee.Database) -> Iterator[peewee.Database]:
        """Make ``database`` the target in this context for the block."""
        token = self._bound.set(database)
        try:
            yield database
        finally:
            self._bound.reset(token)


db = ContextDatabaseProxy()


def use_database(database: peewee.Database) -> AbstractContextManager[peewee.Database]:
    """A context manager in which the store reads and writes ``database`` (this context only)."""
    return db.bound_to(database)


SUPPORTED_SCHEMES = ("sqlite", "postgresql", "postgres", "mysql")
POOL_WAIT_SECONDS = 5
"""How long a request waits for a free pooled connection before a 503 (pool size >= threads
per worker, so only an overloaded embedded process or a leak ever waits)."""
CONNECT_TIMEOUT_SECONDS = 2
"""How long opening a PostgreSQL or MySQL connection may take (libpq's minimum is 2 s)."""


def open_database(
    url: str,
    *,
    busy_timeout_ms: int = 30000,
    pool_size: int = 8,
    connect_timeout: int = CONNECT_TIMEOUT_SECONDS,
    statement_timeout_ms: int = 0,
) -> peewee.Database:
    """Open (lazily) the database named by ``url`` and make it the process default.

    SQLite runs in WAL mode with a busy timeout and foreign keys on; PostgreSQL and MySQL use a
    connection pool of ``pool_size`` per process, a connect timeout of ``connect_timeout``
    seconds (unless the URL sets one) and, on PostgreSQL, TCP keepalives.

    Raises:
        InvalidParameter: the URL's scheme is not one we support.
    """
    parts = urlsplit(url)
    scheme = parts.scheme.split("+")[0]
    if scheme not in SUPPORTED_SCHEMES:
        raise InvalidParameter(
            f"Unsupported database URI {url!r}: use sqlite:///path, postgresql://... or mysql://..."
        )
    database: peewee.Database
    if scheme == "sqlite":
        database = _open_sqlite(url, busy_timeout_ms, pool_size)
    else:
        pooled = {"postgresql": "postgres+pool", "postgres": "postgres+pool", "mysql": "mysql+pool"}
        target = pooled[scheme] + url[len(parts.scheme) :]
        params: dict[str, Any] = {
            "max_connections": pool_size,
            "stale_timeout": 300,
            "timeout": POOL_WAIT_SECONDS,
            "connect_timeout": connect_timeout,
        }
        if scheme == "mysql":
            params["charset"] = "utf8mb4"
        else:
            params.update(
                keepalives=1, keepalives_idle=10, keepalives_interval=5, keepalives_count=3
            )
            # The store is written for READ COMMITTED (PostgreSQL's default), whatever default
            # the database or role was given: migration 16's cascade trigger relies on it.
            params["options"] = "-c default_transaction_isolation=read\\ committed"
        for key in dict(parse_qsl(parts.query)):
            params.pop(key, None)
        database = db_url.connect(target, **params)  # type: ignore[no-untyped-call]
        apply_statement_timeout(database, statement_timeout_ms)
        if scheme != "mysql":
            check_pooled_connections_locally(database)
    _timed_execute(database)
    database.connect = FailFastConnect(database)  # type: ignore[method-assign]
    if isinstance(database, PooledDatabase):
        track_pool(database)
    db.initialize(database)
    return database


def close_database(database: peewee.Database) -> None:
    """Close every connection of ``database``, pooled ones (idle or in use) included."""
    checkpointer = _checkpointers.get(database)
    if checkpointer is not None:
        checkpointer.stop()
    if isinstance(database, PooledDatabase):
        database.close_all()  # type: ignore[no-untyped-call]
    else:
        database.close()


WAL_AUTOCHECKPOINT_PAGES = 10_000
"""SQLite checkpoints in a commit once the log holds this many pages (40 MB; its default is
1,000): populating runs, measured in-process, 0.84 -> 0.62 ms a run with the background
checkpoints, whose every 10 ms could not keep a log under 1,000 pages."""


WAL_SIZE_LIMIT_BYTES = 64 * 1024 * 1024
"""What the log file is truncated to when it starts over, if it grew larger."""


def sqlite_path(url: str) -> str:
    """The file path in ``sqlite:///relative.db`` or ``sqlite:////absolute.db`` (MLflow's forms)."""
    rest = url[len("sqlite://") :]
    path = rest[1:] if rest.startswith("/") else rest
    return path.split("?")[0] or ":memory:"


def _open_sqlite(url: str, busy_timeout_ms: int, pool_size: int) -> peewee.Database:
    pragmas: dict[str, Any] = {
        "journal_mode": "wal",
        "synchronous": "normal",
        # The log is checkpointed in the background (registry.store.wal_checkpointer); SQLite's
        # own checkpoint, in whichever commit passes this many pages, is the backstop.
        "wal_autocheckpoint": WAL_AUTOCHECKPOINT_PAGES,
        # The log starts over only after a complete checkpoint with no older reader; once it
        # does, a log that grew past this is truncated back to it.
        "journal_size_limit": WAL_SIZE_LIMIT_BYTES,
        "foreign_keys": 1,
        "busy_timeout": busy_timeout_ms,
        "cache_size": -16000,
        "mmap_size": 268435456,
    }
    pragmas.update(dict(parse_qsl(urlsplit(url).query)))
    # Pooled, so a request does not close the file's last connection: SQLite checkpoints the
    # WAL on that close, which cost most of a small write's time. Pool "timeout" is the wait
    # for a free connection; SQLite's own lock wait is the busy_timeout pragma.
    path = sqlite_path(url)
    database = PooledSqliteDatabase(  # type: ignore[no-untyped-call]
        path,
        pragmas=pragmas,
        max_connections=pool_size,
        stale_timeout=300,
        timeout=POOL_WAIT_SECONDS,
        check_same_thread=False,
    )
    lock_path = lock_path_for(path)
    if lock_path is not None:
        _writer_queues[database] = WriterQueue(lock_path, int(pragmas["busy_timeout"]) / 1000)
        _checkpointers[database] = WalCheckpointer(path)
    return database


_writer_queues: weakref.WeakKeyDictionary[peewee.Database, WriterQueue] = (
    weakref.WeakKeyDictionary()
)
"""The writers' queue of each SQLite file database (``registry.store.writer_queue``)."""
_checkpointers: weakref.WeakKeyDictionary[peewee.Database, WalCheckpointer] = (
    weakref.WeakKeyDictionary()
)
"""Each SQLite file database's background WAL checkpoints (``registry.store.wal_checkpointer``)."""


def engine_name() -> str:
    """``sqlite``, ``postgresql`` or ``mysql`` for the bound database."""
    obj = db.obj
    if isinstance(obj, peewee.SqliteDatabase):
        return "sqlite"
    if isinstance(obj, peewee.PostgresqlDatabase):
        return "postgresql"
    return "mysql"


class CommitHook(Protocol):
    """Work an outermost write transaction does for its context (``registry.store.audit``)."""

    def before_commit(self) -> None:
        """Run inside the transaction, after its body, just before it commits."""

    def after_commit(self) -> None:
        """Run once the transaction committed."""


commit_hook: ContextVar[CommitHook | None] = ContextVar("registry_commit_hook", default=None)
"""The hook of the current context (a request's audit row), None when there is none."""


@contextmanager
def write_transaction() -> Iterator[None]:
    """A transaction that takes the write lock at its start on SQLite (BEGIN IMMEDIATE).

    Taking the lock up front means two SQLite writers wait for each other instead of one of
    them failing with "database is locked" when it upgrades a read lock; they wait in the
    file's ``WriterQueue`` (woken as the lock frees), then SQLite's busy timeout. The turn is
    held until the commit (or rollback) is done. When outermost, it runs the context's
    ``commit_hook`` just before committing, so the hook's rows share its fate.
    """
    obj = db.obj
    outermost = not obj.in_transaction()
    hook = commit_hook.get() if outermost else None
    if isinstance(obj, peewee.SqliteDatabase) and outermost:
        queue = _writer_queues.get(obj)
        with queue.turn() if queue is not None else nullcontext(), obj.atomic("IMMEDIATE"):
            yield
            if hook is not None:
                hook.before_commit()
        checkpointer = _checkpointers.get(obj)
        if checkpointer is not None:
            checkpointer.wrote()
    else:
        with db.atomic():
            yield
            if hook is not None:
                hook.before_commit()
    if outermost:
        mark_committed()
        if hook is not None:
            hook.after_commit()


def lock_for_update(query: peewee.ModelSelect) -> peewee.ModelSelect:
    """Add ``FOR UPDATE`` where the engine has row locks (SQLite's write lock already covers it)."""
    if engine_name() == "sqlite":
        return query
    return query.for_update()


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
