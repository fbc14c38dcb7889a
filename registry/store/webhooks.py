"""Webhooks: create, read, list, update and delete the subscriptions.

Secrets arrive here already encrypted (``registry.services.webhooks.crypto``); this module
stores what it is given and never sees a secret in the clear.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

from registry.errors import NotFound
from registry.store import write_transaction
from registry.store.events import latest_event_id
from registry.store.registered_models import now_ms
from registry.store.webhook_models import Webhook, WebhookCursor, WebhookDelivery

FANOUT = "fanout"


@dataclass(frozen=True)
class WebhookPage:
    """One page of webhooks, newest first, and the offset of the next (None at the end)."""

    webhooks: list[Webhook]
    next_offset: int | None


def event_names(row: Webhook) -> list[str]:
    """The ``entity.action`` names a webhook subscribes to."""
    names: list[str] = json.loads(row.events)
    return names


def create_webhook(
    *,
    name: str,
    url: str,
    events: list[str],
    description: str,
    secret: str | None,
    status: str,
) -> Webhook:
    """Store a new webhook; it receives the events recorded after this call commits."""
    now = now_ms()
    with write_transaction():
        latest = latest_event_id()
        # The first webhook starts the fan-out at the stream's end, not at its beginning.
        if WebhookCursor.get_or_none(WebhookCursor.name == FANOUT) is None:
            WebhookCursor.insert(name=FANOUT, last_event_id=latest).on_conflict_ignore().execute()
        return Webhook.create(
            id=str(uuid.uuid4()),
            name=name,
            url=url,
            events=json.dumps(events),
            description=description,
            secret=secret,
            status=status,
            from_event_id=latest,
            creation_timestamp=now,
            last_updated_timestamp=now,
        )


def get_webhook(webhook_id: str) -> Webhook:
    """The webhook with this id.

    Raises:
        NotFound: there is none.
    """
    row = Webhook.get_or_none(Webhook.id == webhook_id)
    if row is None:
        raise NotFound(f"Webhook with ID {webhook_id} not found.")
    return row


def list_webhooks(max_results: int, offset: int) -> WebhookPage:
    """A page of webhooks, newest first."""
    rows = list(
        Webhook.select()
        .order_by(Webhook.creation_timestamp.desc(), Webhook.id)
        .offset(offset)
        .limit(max_results + 1)
    )
    more = len(rows) > max_results
    return WebhookPage(rows[:max_results], offset + max_results if more else None)


def update_webhook(webhook_id: str, changes: dict[str, Any]) -> Webhook:
    """Apply ``changes`` (column name -> value; ``events`` a list of names) to a webhook.

    Raises:
        NotFound: there is no such webhook.
    """
    values = dict(changes)
    if "events" in values:
        values["events"] = json.dumps(values["events"])
    with write_transaction():
        row = get_webhook(webhook_id)
        values["last_updated_timestamp"] = now_ms()
        Webhook.update(values).where(Webhook.id == webhook_id).execute()
    return get_webhook(row.id)


def delete_webhook(webhook_id: str) -> None:
    """Delete a webhook and its deliveries.

    Raises:
        NotFound: there is no such webhook.
    """
    with write_transaction():
        get_webhook(webhook_id)
        WebhookDelivery.delete().where(WebhookDelivery.webhook == webhook_id).execute()
        Webhook.delete().where(Webhook.id == webhook_id).execute()


def count_webhooks() -> int:
    """How many webhooks exist."""
    return int(Webhook.select().count())


def a_stored_secret() -> str | None:
    """Any one encrypted secret (to check at start-up that the configured key opens it)."""
    row = Webhook.select(Webhook.secret).where(Webhook.secret.is_null(False)).first()
    return None if row is None else str(row.secret)
