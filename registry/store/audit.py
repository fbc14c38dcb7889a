"""The audit log: one row per write (who, what, which object, when, from which address).

A request's row is armed before its view runs (``arm``) and appended by the request's first
outermost ``write_transaction`` just before that transaction commits, so a write and its row
commit or roll back together. A request none of whose transactions committed (refused before any
write, or a write that failed) gets its row from ``settle``, in a small transaction of its own,
with the status it was answered.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextvars import Token
from dataclasses import dataclass, fields, replace
from typing import Any

from registry.errors import InvalidParameter
from registry.search.paging import decode_page_token, encode_page_token
from registry.store import CommitHook, commit_hook, db, write_transaction
from registry.store.auth_models import AuditEntry

ASSUMED_STATUS = 200
"""The status a row appended inside the request's transaction carries (every API write answers
200 on success); ``settle`` corrects it when the request was answered otherwise."""


@dataclass
class AuditRecord:
    """The values of one audit row (``at`` is set when it is appended)."""

    username: str
    action: str
    method: str
    path: str
    object_type: str = ""
    object_id: str = ""
    status: int = ASSUMED_STATUS
    remote_addr: str = ""


_COLUMNS = ("at", *(f.name for f in fields(AuditRecord)))
_insert_sql: dict[type, tuple[str, list[str]]] = {}


def append_audit(record: AuditRecord) -> int:
    """Append one row (inside the caller's transaction when there is one); answer its id."""
    values: dict[str, Any] = {**record.__dict__, "at": int(time.time() * 1000)}
    database = db.obj
    compiled = _insert_sql.get(type(database))
    if compiled is None:
        # Every audited write appends one: peewee compiles the INSERT once per engine (values
        # are bound parameters; the markers below only tell their order).
        query = AuditEntry.insert(**{name: f"\0{name}" for name in _COLUMNS})
        sql, params = query.sql()
        compiled = _insert_sql[type(database)] = (sql, [str(p)[1:] for p in params])
    sql, order = compiled
    cursor = database.execute_sql(sql, [values[name] for name in order])
    if cursor.description:  # PostgreSQL answers the id (INSERT ... RETURNING)
        return int(cursor.fetchone()[0])
    return int(cursor.lastrowid)


class PendingAudit:
    """A request's audit row, appended by the first outermost write transaction that commits.

    ``in_transaction``, when given, runs in that transaction just before the row is appended
    (to find a created object's id, or grant its creator MANAGE, in the same commit).
    """

    def __init__(
        self,
        record: AuditRecord,
        in_transaction: Callable[[AuditRecord], None] | None = None,
    ) -> None:
        self.record = record
        self.in_transaction = in_transaction
        self.row_id: int | None = None
        self._attempt = record
        self.committed = False
        self.settled = False

    def before_commit(self) -> None:
        """Append the row (once per request) in the transaction about to commit."""
        if self.committed or self.settled:
            return
        self.row_id = None  # a row from a transaction that then failed to commit is gone
        # What the transaction learns (a created object's id) holds only if it commits.
        self._attempt = self.record
        if self.in_transaction is not None:
            self._attempt = replace(self.record)
            self.in_transaction(self._attempt)
        self.row_id = append_audit(self._attempt)

    def after_commit(self) -> None:
        """Note that the transaction holding the row committed."""
        if self.row_id is not None and not self.settled:
            self.committed = True
            self.record = self._attempt


def arm(pending: PendingAudit) -> Token[CommitHook | None]:
    """Have this context's next committing write transaction append ``pending``'s row.

    Undo with ``disarm(token)`` when the request ends.
    """
    return commit_hook.set(pending)


def disarm(token: Token[CommitHook | None]) -> None:
    """Undo ``arm``."""
    commit_hook.reset(token)


def settle(pending: PendingAudit, status: int) -> None:
    """Finish a request's row once it was answered with ``status``.

    A row that committed with its write gets the status only when it differs from the assumed
    one; a row no transaction committed is appended now, on its own.
    """
    pending.settled = True
    if pending.committed and pending.row_id is not None:
        if status != pending.record.status:
            with write_transaction():
                AuditEntry.update(status=status).where(AuditEntry.id == pending.row_id).execute()
        return
    pending.record.status = status
    with write_transaction():
        append_audit(pending.record)


def search_audit(
    username: str | None,
    object_type: str | None,
    object_id: str | None,
    max_results: int,
    page_token: str | None,
) -> tuple[list[AuditEntry], str | None]:
    """A page of audit entries, newest first, and the next page's token.

    Raises:
        InvalidParameter: max_results out of 1..1000 or a bad page token.
    """
    if not 1 <= max_results <= 1000:
        raise InvalidParameter("max_results must be between 1 and 1000.")
    query = AuditEntry.select().order_by(AuditEntry.id.desc())
    if username:
        query = query.where(AuditEntry.username == username)
    if object_type:
        query = query.where(AuditEntry.object_type == object_type)
    if object_id:
        query = query.where(AuditEntry.object_id == object_id)
    offset = decode_page_token(page_token)
    rows = list(query.offset(offset).limit(max_results + 1))
    token = encode_page_token(offset + max_results) if len(rows) > max_results else None
    return rows[:max_results], token
