"""Connection lifecycle: fail fast when the database is down, retry deadlocks, survive fork().

Database errors are translated here into the API's errors (``database_error``).

A statement timeout bounds every query on PostgreSQL and MySQL/MariaDB, so one pathological
search cannot hold a connection (and a worker thread) for minutes.

No connection is shared across ``fork()``. Used by the store's ``open_database`` and
``write_transaction`` and by the server's request dispatch; nothing here knows models or queries.
"""

from __future__ import annotations

import logging
import os
import re
import select
import threading
import weakref
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import peewee
import tenacity
from playhouse.pool import MaxConnectionsExceeded

from registry.errors import RegistryError, TemporarilyUnavailable
from registry.retry import policy

logger = logging.getLogger(__name__)

T = TypeVar("T")

DEADLOCK_ATTEMPTS = 3
"""Attempts of a request the database aborted as a deadlock victim (MySQL 1213, PG 40P01)."""


class DatabaseDown(peewee.OperationalError):
    """Raised at once, without a connection attempt, while the database is known to be down."""


_committed: ContextVar[bool] = ContextVar("registry_committed_write", default=False)


def mark_committed() -> None:
    """Record that the current request committed a write (so a deadlock retry must not rerun it)."""
    _committed.set(True)


def is_deadlock(exc: BaseException) -> bool:
    """True when the database aborted the transaction as a deadlock (or serialization) victim.

    Running the transaction again is the documented cure for both.
    """
    return not _DEADLOCK_CODES.isdisjoint(error_codes(exc))


_DEADLOCK_CODES = {"40P01", "40001", 1213}
"""PostgreSQL's deadlock_detected, serialization_failure; MySQL's ER_LOCK_DEADLOCK."""


def error_codes(exc: BaseException) -> set[object]:
    """The driver error codes carried by ``exc`` and the exceptions it wraps.

    peewee wraps the driver's exception (as its first argument and as ``__context__``); a
    PostgreSQL error carries its SQLSTATE as ``pgcode``, a MySQL one its errno as ``args[0]``.
    """
    return {code for cause in _chain(exc) if (code := _code(cause)) is not None}


def _chain(exc: BaseException) -> list[BaseException]:
    causes: list[BaseException] = []
    pending: list[object] = [exc]
    while pending and len(causes) < 8:
        cause = pending.pop(0)
        if isinstance(cause, BaseException) and cause not in causes:
            causes.append(cause)
            pending.extend((*cause.args[:1], cause.__cause__, cause.__context__))
    return causes


def _code(cause: BaseException) -> object:
    pgcode = getattr(cause, "pgcode", None)
    if pgcode is not None:
        return pgcode
    first = cause.args[0] if cause.args else None
    return first if isinstance(first, int) else None


def retry_deadlocks(call: Callable[[], T]) -> T:
    """Run ``call``, again (up to ``DEADLOCK_ATTEMPTS`` in all) while it is a deadlock's victim.

    ``call`` is run again only if it committed no ``write_transaction`` before the deadlock, so a
    retry never repeats a write that is already stored. The waits are the project's retry policy
    (``registry.retry``): short and random, so the two sides of the deadlock do not meet again.
    """
    committed = False

    def attempt() -> T:
        nonlocal committed
        token = _committed.set(False)
        try:
            return call()
        finally:
            committed = _committed.get()
            _committed.reset(token)

    def victim(err: BaseException) -> bool:
        return isinstance(err, peewee.OperationalError) and not committed and is_deadlock(err)

    # Every request comes through here: the first attempt runs bare, and only a deadlock victim
    # pays for tenacity's machinery (building and running a policy cost 14 us a request).
    try:
        return attempt()
    except peewee.OperationalError as err:
        if not victim(err):
            raise
        first_failure: BaseException | None = err

    def again() -> T:
        # tenacity's first attempt is the one that already failed: it sees that failure, then
        # waits and runs the retries exactly as if it had run the call from the start.
        nonlocal first_failure
        if first_failure is not None:
            failure, first_failure = first_failure, None
            raise failure
        return attempt()

    retrying = policy(
        retry=tenacity.retry_if_exception(victim),
        attempts=DEADLOCK_ATTEMPTS,
        first=0.02,
        cap=0.2,
        name="deadlock victim",
    )
    return retrying(again)


_SCHEMA_CODES = {"42P01", "42703", 1146, 1054}
"""PostgreSQL's undefined_table, undefined_column; MySQL's ER_NO_SUCH_TABLE, ER_BAD_FIELD_ERROR."""
_SQLITE_SCHEMA_WORDS = ("no such table", "no such column", "has no column named")


def is_schema_mismatch(exc: BaseException) -> bool:
    """True when a statement names a table or column the database does not have.

    The schema is older (or newer) than the code: retrying cannot help, ``db upgrade`` can.
    """
    if not isinstance(exc, peewee.DatabaseError):
        return False
    if not _SCHEMA_CODES.isdisjoint(error_codes(exc)):
        return True
    text = str(exc).lower()
    return any(words in text for words in _SQLITE_SCHEMA_WORDS)


_MYSQL_CONNECTION_ERRORS = {1040, 1205, 2002, 2003, 2006, 2013}
"""Too many connections, lock wait timeout, cannot connect (socket, TCP), server gone, lost."""
_PG_CONNECTION_CLASSES = ("08", "53", "57P")
"""SQLSTATE classes: connection exception, insufficient resources, operator intervention."""
_SQLITE_CONNECTION_WORDS = ("database is locked", "unable to open")
_CLOSED_WORDS = ("connection not opened", "connection already closed", "not connected")


def is_connection_failure(exc: BaseException) -> bool:
    """True when ``exc`` says the database cannot serve now (down, unreachable, busy, locked).

    Such a failure is worth retrying; any other database error (a syntax error, a constraint
    the code should have checked) is a bug that a retry would only repeat.
    """
    if isinstance(exc, (MaxConnectionsExceeded, DatabaseDown)):
        return True
    if not isinstance(exc, (peewee.OperationalError, peewee.InterfaceError)):
        return False
    causes = _chain(exc)
    for code in error_codes(exc):
        if code in _MYSQL_CONNECTION_ERRORS:
            return True
        if isinstance(code, str) and code.startswith(_PG_CONNECTION_CLASSES):
            return True
    # psycopg2 gives no SQLSTATE to failures on the client's side of the socket (refused,
    # timed out, closed by the server): those are connection failures by nature.
    if any(_module(c) == "psycopg2" and getattr(c, "pgcode", 0) is None for c in causes):
        return True
    text = " ".join(str(c).lower() for c in causes)
    if isinstance(exc, peewee.InterfaceError):
        # pymysql says (0, '') once its socket is gone; sqlite3's InterfaceError is a bug.
        gone = any(_module(c) == "pymysql" and _code(c) == 0 for c in causes)
        return gone or any(words in text for words in _CLOSED_WORDS)
    return any(words in text for words in _SQLITE_CONNECTION_WORDS)


def _module(cause: BaseException) -> str:
    return type(cause).__module__.partition(".")[0]


def database_error(exc: BaseException) -> RegistryError | None:
    """The API's error for a database failure, or None when ``exc`` is none of ours to translate.

    A connection-level failure (``is_connection_failure``: down, unreachable, no free pooled
    connection, a statement over the timeout, SQLite's lock wait) is a 503 that a retry may
    cure; a table or column the database lacks is a 500 that names the fix (``modelyard db
    upgrade``). Other database errors are bugs, left to the generic 500. The client's message
    is fixed: the driver's text (host, port, SQL) goes to the server log only.
    """
    if is_schema_mismatch(exc):
        logger.error("database schema does not match the code: %s", redact(str(exc)))
        return RegistryError(
            "The database schema does not match this version of Modelyard; an operator must run"
            " `modelyard db upgrade`."
        )
    if is_statement_timeout(exc):
        logger.warning("statement cancelled by the statement timeout: %s", redact(str(exc)))
        return TemporarilyUnavailable(
            "The query ran over the statement timeout (REGISTRY_STATEMENT_TIMEOUT_MS); retry it"
            " or narrow it"
        )
    if not is_connection_failure(exc):
        return None
    logger.warning("database unavailable: %s", redact(str(exc)))
    if isinstance(exc, MaxConnectionsExceeded):
        return TemporarilyUnavailable("The database is busy: no free connection; retry later")
    return TemporarilyUnavailable("The database is unavailable; retry later")


_URL_PASSWORD = re.compile(r"(?P<keep>[a-z][a-z0-9+.-]*://[^/\s:@]*:)[^/\s]*@", re.IGNORECASE)
_PASSWORD_SETTING = re.compile(r"(?P<keep>password\s*=\s*)('[^']*'|\S+)", re.IGNORECASE)


def url_without_password(url: str) -> str:
    """``url`` with its password, if any, shown as ``***`` (``user:***@host``), for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    userinfo, _, host = parts.netloc.rpartition("@")
    netloc = f"{userinfo.partition(':')[0]}:***@{host}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def redact(text: str) -> str:
    """``text`` with any database URL's password (``user:***@``) or ``password=...`` masked."""
    text = _URL_PASSWORD.sub(r"\g<keep>***@", text)
    return _PASSWORD_SETTING.sub(r"\g<keep>***", text)


STATEMENT_TIMEOUT_ERRORS = {"57014", 1969, 3024}
"""PostgreSQL's query_canceled, MariaDB's ER_STATEMENT_TIMEOUT, MySQL's ER_QUERY_TIMEOUT."""


def apply_statement_timeout(database: peewee.Database, timeout_ms: int) -> None:
    """Make the server cancel any statement of ``database`` running over ``timeout_ms`` (0: none).

    PostgreSQL gets ``statement_timeout`` as a startup option (no extra round trip); a MySQL
    connection runs one ``SET SESSION`` when it is opened, not each time the pool lends it:
    MariaDB's ``max_statement_time`` (seconds) covers every statement, MySQL's
    ``max_execution_time`` read-only SELECTs only. SQLite has no such setting.
    """
    if timeout_ms <= 0:
        return
    if isinstance(database, peewee.PostgresqlDatabase):
        params = database.connect_params
        params["options"] = f"{params.get('options', '')} -c statement_timeout={timeout_ms}".strip()
    elif isinstance(database, peewee.MySQLDatabase):
        _set_session_timeout_on_connect(database, timeout_ms)


def _set_session_timeout_on_connect(database: Any, timeout_ms: int) -> None:
    # Any: types-peewee does not declare the private _connect that the pool wraps.
    connect: Callable[[], Any] = database._connect
    prepared: weakref.WeakSet[Any] = weakref.WeakSet()

    def connect_with_timeout() -> Any:
        conn = connect()
        if conn not in prepared:
            with conn.cursor() as cursor:
                if "mariadb" in conn.get_server_info().lower():
                    cursor.execute("SET SESSION max_statement_time = %s", (timeout_ms / 1000,))
                else:
                    cursor.execute("SET SESSION max_execution_time = %s", (timeout_ms,))
            prepared.add(conn)
        return conn

    database._connect = connect_with_timeout


def is_statement_timeout(exc: BaseException) -> bool:
    """True when the database cancelled the statement for running over the statement timeout."""
    return isinstance(exc, peewee.DatabaseError) and not STATEMENT_TIMEOUT_ERRORS.isdisjoint(
        error_codes(exc)
    )


_pools: weakref.WeakSet[Any] = weakref.WeakSet()
_inherited: list[object] = []


def track_pool(database: Any) -> None:
    """Close ``database``'s idle connections before every fork; forget them in the child."""
    _pools.add(database)


def _close_idle_connections() -> None:
    for database in list(_pools):
        database.close_idle()


def _forget_inherited_connections() -> None:
    # In a forked child, the parent's connections must be neither used nor closed (closing a
    # SQLite file's descriptor drops this process's locks on it): keep them unreachable.
    for database in list(_pools):
        _inherited.extend(conn for *_, conn in database._connections)
        _inherited.extend(pooled.connection for pooled in database._in_use.values())
        database._connections, database._in_use = [], {}
        database._state.reset()


os.register_at_fork(before=_close_idle_connections, after_in_child=_forget_inherited_connections)


def check_pooled_connections_locally(database: Any) -> None:
    """Take a pooled PostgreSQL connection without a ``SELECT 1`` round trip when it is sound.

    peewee's pool checks every connection it lends with ``SELECT 1``: a tenth of a millisecond
    of each request, a sixth of a log-metric call. A connection PostgreSQL closed (a restart,
    a terminated backend, a proxy that dropped it) has a message or an end of file waiting on
    its socket. So an idle connection with nothing to read is lent as it is, and any other
    goes through peewee's check, which replaces it if it is dead. A peer that vanished without
    a word now hangs the request's first statement instead of the ``SELECT 1``, for as long as
    the TCP keepalives take to give up (about 25 s), and that request gets a 503 where it used to
    get a new connection after the same wait; the next request gets a new one.
    """
    if not isinstance(getattr(database, "_adapter", None), peewee.Psycopg2Adapter) or not hasattr(
        select, "poll"
    ):
        return  # another driver, or no poll(): peewee's own check stays
    try:
        from psycopg2.extensions import TRANSACTION_STATUS_IDLE
    except ImportError:
        return  # no driver: connecting says so (peewee's ImproperlyConfigured)

    check = database._is_closed

    def is_closed(conn: Any) -> bool:
        if conn.closed:
            return True
        idle = conn.info.transaction_status == TRANSACTION_STATUS_IDLE
        if idle and not _waiting_to_be_read(conn.fileno()):
            return False
        return bool(check(conn))

    database._is_closed = is_closed


def _waiting_to_be_read(fd: int) -> bool:
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLPRI | select.POLLERR | select.POLLHUP)
    return bool(poller.poll(0))


class FailFastConnect:
    """``Database.connect`` that fails at once while the database is down.

    peewee opens connections one at a time per database, so against a database that does not
    answer, every request would queue behind the others' connect timeouts. Here, once an
    attempt fails, one request at a time probes while the rest get their 503 at once; the
    first probe that connects ends the outage.
    """

    def __init__(self, database: peewee.Database) -> None:
        self._database = database
        self._connect = database.connect
        self._gate = threading.Lock()
        self._failure: str | None = None

    def __call__(self, reuse_if_open: bool = False) -> bool:
        """Connect as ``Database.connect`` does, or raise at once while another attempt failed."""
        if not self._database.is_closed():  # this thread is connected: nothing to attempt
            return self._connect(reuse_if_open)
        if self._failure is not None:
            if not self._gate.acquire(blocking=False):
                raise self._unavailable()
        else:
            self._gate.acquire()
            if self._failure is not None:  # it failed while this request waited its turn
                self._gate.release()
                raise self._unavailable()
        try:
            opened = self._connect(reuse_if_open)
            self._failure = None
            return opened
        except peewee.OperationalError as err:
            self._failure = str(err).strip() or type(err).__name__
            raise
        finally:
            self._gate.release()

    def _unavailable(self) -> DatabaseDown:
        return DatabaseDown(f"the last connection attempt failed: {self._failure}")
