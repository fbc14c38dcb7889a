"""Webhook deliveries: fan events out to rows, claim due rows, record each attempt.

Fan-out reads the event stream after the ``webhook_cursor`` row and inserts one delivery per
matching webhook, then moves the cursor, all in one transaction that holds the cursor row's
lock: several workers (processes, replicas) never fan an event out twice, and a crash before
the commit leaves the cursor where it was. Event ids are dense and in commit order
(``registry.store.events``), so the cursor never skips an event that commits later.

A claim takes due deliveries with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL and MySQL/MariaDB
(concurrent workers take disjoint rows without waiting on each other) and in a write
transaction on SQLite (its one writer makes the claim atomic), and leases them. A delivery is
due only when no earlier event of the same model is still pending for the same webhook, so each
receiver gets a model's events in order. "The same model" is the same model id (copied from the
event at fan-out), so a rename does not let the model's new events overtake its old ones. A
redelivery (``replay``) is outside that order: it neither waits nor holds back.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from peewee import fn

from registry.errors import NotFound
from registry.store import engine_name, lock_for_update, write_transaction
from registry.store.events import EventRow, events_after, latest_event_id
from registry.store.webhook_models import (
    ACTIVE,
    DELIVERED,
    FAILED,
    PENDING,
    Webhook,
    WebhookCursor,
    WebhookDelivery,
)
from registry.store.webhooks import FANOUT, event_names

RESPONSE_EXCERPT_CHARS = 1000
"""Characters of a receiver's answer kept (the sender reads this many bytes, no more)."""
ERROR_CHARS = 1000


@dataclass(frozen=True)
class Attempt:
    """What one attempt got: the status code and a body excerpt, or the error that stopped it."""

    status_code: int | None
    response: str
    error: str


@dataclass(frozen=True)
class DeliveryPage:
    """One page of deliveries, newest first, and the offset of the next (None at the end)."""

    deliveries: list[WebhookDelivery]
    next_offset: int | None


def fan_out(now: int, limit: int = 500) -> int:
    """Turn the events after the cursor into deliveries; return how many events were read."""
    cursor = WebhookCursor.get_or_none(WebhookCursor.name == FANOUT)
    if cursor is None or cursor.last_event_id >= latest_event_id():
        return 0  # nothing new: no write transaction (and no SQLite write lock) taken
    with write_transaction():
        query = WebhookCursor.select().where(WebhookCursor.name == FANOUT)
        locked: WebhookCursor = lock_for_update(query).get()  # type: ignore[arg-type, assignment]
        after = int(locked.last_event_id)
        events = events_after(after, limit=limit)
        if not events:
            return 0
        hooks = [(h.id, h.from_event_id, set(event_names(h))) for h in _active_webhooks()]
        rows = [
            {
                "delivery_id": str(uuid.uuid4()),
                "webhook": hook_id,
                "event_id": event.id,
                "model_name": event.model_name,
                "model_id": event.model_id,
                "event": event.event_type,
                "status": PENDING,
                "next_attempt_at": now,
                "created_at": now,
            }
            for event in events
            for hook_id, after, names in hooks
            if event.id > after and event.event_type in names
        ]
        for start in range(0, len(rows), 100):
            WebhookDelivery.insert_many(rows[start : start + 100]).execute()
        WebhookCursor.update(last_event_id=events[-1].id).where(
            WebhookCursor.name == FANOUT
        ).execute()
    return len(events)


def event_of(delivery: WebhookDelivery) -> EventRow | None:
    """The event a delivery sends (None if it was pruned since)."""
    found = events_after(delivery.event_id - 1, limit=1)
    return found[0] if found and found[0].id == delivery.event_id else None


def _active_webhooks() -> list[Webhook]:
    return list(Webhook.select().where(Webhook.status == ACTIVE))


def claim_due(owner: str, now: int, lease_ms: int, limit: int = 20) -> list[WebhookDelivery]:
    """Lease up to ``limit`` due deliveries to ``owner``, oldest event first.

    Due: pending, its time come, not leased (or its lease ran out: the worker that held it
    died), its webhook active, and no earlier event of its model (by id) pending for its
    webhook, redeliveries aside.
    """
    earlier = WebhookDelivery.alias("earlier")
    blocked = (
        earlier.select(earlier.id)
        .where(
            (earlier.webhook == WebhookDelivery.webhook)
            & (earlier.model_id == WebhookDelivery.model_id)
            & (earlier.event_id < WebhookDelivery.event_id)
            & (earlier.status == PENDING)
            & ~earlier.replay
        )
        .limit(1)
    )
    active = Webhook.select(Webhook.id).where(Webhook.status == ACTIVE)
    due = (
        WebhookDelivery.select(WebhookDelivery.id)
        .where(
            (WebhookDelivery.status == PENDING)
            & (WebhookDelivery.next_attempt_at <= now)
            & (WebhookDelivery.lease_until.is_null() | (WebhookDelivery.lease_until < now))
            & WebhookDelivery.webhook.in_(active)
            & (WebhookDelivery.replay | ~fn.EXISTS(blocked))
        )
        .order_by(WebhookDelivery.event_id, WebhookDelivery.id)
        .limit(limit)
    )
    if not due.exists():
        return []  # nothing due: no write transaction
    with write_transaction():
        if engine_name() != "sqlite":
            due = due.for_update(skip_locked=True)
        ids = [row.id for row in due]
        if not ids:
            return []
        WebhookDelivery.update(lease_until=now + lease_ms, lease_owner=owner).where(
            WebhookDelivery.id.in_(ids)
        ).execute()
    return list(
        WebhookDelivery.select()
        .where(WebhookDelivery.id.in_(ids))
        .order_by(WebhookDelivery.event_id, WebhookDelivery.id)
    )


def record_attempt(
    delivery: WebhookDelivery,
    owner: str,
    attempt: Attempt,
    now: int,
    *,
    delivered: bool,
    retry_at: int | None,
) -> bool:
    """Record one attempt of a delivery ``owner`` holds; False when its lease was lost.

    A delivered one is done; otherwise it is tried again at ``retry_at``, or failed for good
    when that is None.
    """
    status = DELIVERED if delivered else (PENDING if retry_at is not None else FAILED)
    changed = (
        WebhookDelivery.update(
            status=status,
            attempts=WebhookDelivery.attempts + 1,
            next_attempt_at=retry_at if retry_at is not None else now,
            lease_until=None,
            lease_owner=None,
            last_status_code=attempt.status_code,
            last_response=attempt.response[:RESPONSE_EXCERPT_CHARS],
            last_error=attempt.error[:ERROR_CHARS],
            last_attempt_at=now,
            delivered_at=now if delivered else None,
        )
        .where((WebhookDelivery.id == delivery.id) & (WebhookDelivery.lease_owner == owner))
        .execute()
    )
    return bool(changed)


def list_deliveries(
    webhook_id: str, status: str | None, max_results: int, offset: int
) -> DeliveryPage:
    """A page of a webhook's deliveries, newest event first (optionally of one status)."""
    query = WebhookDelivery.select().where(WebhookDelivery.webhook == webhook_id)
    if status is not None:
        query = query.where(WebhookDelivery.status == status)
    rows = list(
        query.order_by(WebhookDelivery.event_id.desc(), WebhookDelivery.id.desc())
        .offset(offset)
        .limit(max_results + 1)
    )
    more = len(rows) > max_results
    return DeliveryPage(rows[:max_results], offset + max_results if more else None)


def get_delivery(delivery_id: str) -> WebhookDelivery:
    """The delivery with this id.

    Raises:
        NotFound: there is none.
    """
    row = WebhookDelivery.get_or_none(WebhookDelivery.delivery_id == delivery_id)
    if row is None:
        raise NotFound(f"Webhook delivery with ID {delivery_id} not found.")
    return row


def redeliver(delivery_id: str, now: int) -> WebhookDelivery:
    """Make a delivery pending again, due now, with a fresh retry schedule.

    One that was done (delivered or failed) is a replay: later events of its model have gone
    out, so it is sent outside the model's order and holds none of them back. One still
    pending keeps its place in the order.

    Raises:
        NotFound: there is no such delivery.
    """
    with write_transaction():
        row = get_delivery(delivery_id)
        WebhookDelivery.update(
            status=PENDING,
            attempts=0,
            next_attempt_at=now,
            lease_until=None,
            lease_owner=None,
            replay=bool(row.replay) or row.status != PENDING,
        ).where(WebhookDelivery.id == row.id).execute()
    return get_delivery(delivery_id)
