"""Ours: the registry's event stream, read with a cursor, with an optional long-poll.

``GET /api/2.0/modelyard/events?after=ID[&model=NAME][&max_results=N][&wait_seconds=S]``
answers the events newer than ``after`` that the caller may read, in id order, and the cursor
to send next. With ``wait_seconds`` and nothing new, the answer waits until an event newer than
``after`` commits (in any worker or replica: the wait probes the events table every
``POLL_SECONDS``) or the time is up. While it sleeps it holds no database connection and no
transaction, but it does hold one of its worker's threads: at most ``events_max_waiters``
requests wait at once per process, and a wait beyond that is refused with a 503
``TEMPORARILY_UNAVAILABLE`` and a ``Retry-After`` (an empty answer at once would read as "nothing
new", and a follower would silently turn into a poller).

A cursor ahead of the stream (the registry's database was restored from a backup) is answered
at once with ``next_after`` set to the newest id, so the client follows the stream from there.
"""

from __future__ import annotations

import threading
import time

from flask import Blueprint, Response, jsonify

from registry.errors import TemporarilyUnavailable
from registry.gunicorn_workers import stopping
from registry.server.api import OUR_PREFIX, config, parse
from registry.store import db
from registry.store.events import has_event_after, latest_event_id, readable_events_after
from registry.store.rows import EventRow
from registry.wire.events import Event, EventsPageSchema, EventsRequestSchema

bp = Blueprint("events", __name__)

POLL_SECONDS = 0.05
"""How often a waiting long-poll looks for a new event: one index probe each time."""

_waiting = 0
_waiting_lock = threading.Lock()


@bp.get(f"{OUR_PREFIX}/events")
def events() -> Response:
    """Events newer than ``after`` (of one model), waiting up to ``wait_seconds`` for one."""
    args = parse(EventsRequestSchema())
    model, limit = args["model"], args["max_results"]
    if args["after"] is None:
        return _answer([], latest_event_id())
    after = int(args["after"])
    rows, cursor = _read(after, model, limit)
    if rows or args["wait_seconds"] <= 0 or cursor < after:
        return _answer(rows, cursor)
    if not _enter_wait():
        raise TemporarilyUnavailable(
            "Too many requests are waiting for events in this worker; retry later"
        )
    try:
        deadline = time.monotonic() + args["wait_seconds"]
        while not rows and time.monotonic() < deadline and not stopping.is_set():
            if _sleep_until_newer(cursor, model, deadline):
                rows, cursor = _read(cursor, model, limit)
    finally:
        _leave_wait()
    return _answer(rows, cursor)


def _read(after: int, model: str | None, limit: int) -> tuple[list[EventRow], int]:
    # The newest id is read first: ids are dense and in commit order, so every event up to it
    # has committed and the query below sees all of them; with none readable, the cursor may
    # move past them. A cursor above the newest id (a restored database) comes back to it.
    newest = latest_event_id()
    rows = readable_events_after(after, model_name=model, limit=limit)
    return rows, (rows[-1].id if rows else newest)


def _sleep_until_newer(after: int, model: str | None, deadline: float) -> bool:
    """Sleep between probes, without a connection, until a newer event or the deadline.

    A worker's graceful exit ends the wait too: the client asks again, of a live worker.
    """
    while True:
        db.close()
        if stopping.wait(max(0.0, min(POLL_SECONDS, deadline - time.monotonic()))):
            db.connect(reuse_if_open=True)
            return False
        db.connect(reuse_if_open=True)
        if has_event_after(after, model_name=model):
            return True
        if time.monotonic() >= deadline:
            return False


def _enter_wait() -> bool:
    global _waiting
    with _waiting_lock:
        if _waiting >= config().events_max_waiters:
            return False
        _waiting += 1
        return True


def _leave_wait() -> None:
    global _waiting
    with _waiting_lock:
        _waiting -= 1


def _answer(rows: list[EventRow], cursor: int) -> Response:
    events = [
        Event(
            id=row.id,
            event=row.event_type,
            entity=row.entity,
            action=row.action,
            model_name=row.model_name,
            version=None if row.version is None else str(row.version),
            data=row.data,
            user_id=row.user_id,
            timestamp=row.timestamp,
        )
        for row in rows
    ]
    return jsonify(EventsPageSchema().dump({"events": events, "next_after": cursor}))
