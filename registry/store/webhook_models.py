"""The webhook tables: webhooks, their deliveries, and the fan-out cursor over the event stream.

``Webhook.events`` holds the subscribed ``entity.action`` names as a JSON list; ``secret`` the
signing secret encrypted by ``registry.services.webhooks.crypto`` (never the secret itself).
A delivery carries its event's model id (``model_id``: renames keep it), which orders a
webhook's deliveries per model. A delivery is ``pending`` until answered with a 2xx
(``delivered``) or out of attempts (``failed``); a worker that claims it sets ``lease_until``,
and a delivery whose lease ran out is claimed again (its worker died).
"""

from __future__ import annotations

import peewee as pw

from registry.store.models import BaseModel

ACTIVE, DISABLED = "ACTIVE", "DISABLED"
PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"


class Webhook(BaseModel):
    """A receiver URL and the events it subscribes to."""

    id = pw.CharField(max_length=36, primary_key=True)
    name = pw.CharField(max_length=63)
    description = pw.TextField(default="")
    url = pw.CharField(max_length=2000)
    events = pw.TextField()
    status = pw.CharField(max_length=16)
    secret = pw.TextField(null=True)
    from_event_id = pw.BigIntegerField(default=0)
    """Events up to this id happened before the webhook existed: it gets none of them."""
    creation_timestamp = pw.BigIntegerField()
    last_updated_timestamp = pw.BigIntegerField()

    class Meta:
        table_name = "webhooks"


class WebhookDelivery(BaseModel):
    """One event for one webhook: its body, attempts so far and the last answer."""

    id = pw.BigAutoField()
    delivery_id = pw.CharField(max_length=36, unique=True)
    webhook = pw.ForeignKeyField(Webhook, on_delete="CASCADE")
    event_id = pw.BigIntegerField()
    model_name = pw.CharField(max_length=256)
    """The model's name when the event was recorded (shown; the order is by ``model_id``)."""
    model_id = pw.IntegerField(null=True)
    """The model's row id, copied from the event: a model keeps it across renames."""
    event = pw.CharField(max_length=100)
    status = pw.CharField(max_length=16)
    attempts = pw.IntegerField(default=0)
    next_attempt_at = pw.BigIntegerField()
    lease_until = pw.BigIntegerField(null=True)
    lease_owner = pw.CharField(max_length=36, null=True)
    last_status_code = pw.IntegerField(null=True)
    last_response = pw.TextField(default="")
    last_error = pw.TextField(default="")
    last_attempt_at = pw.BigIntegerField(null=True)
    delivered_at = pw.BigIntegerField(null=True)
    created_at = pw.BigIntegerField()
    replay = pw.BooleanField(default=False)
    """Redelivered after it was done: sent outside its model's order (it neither waits for
    the model's earlier events nor holds back its later ones)."""

    webhook_id: str  # foreign-key id accessor peewee adds; declared for the type checker

    class Meta:
        table_name = "webhook_deliveries"
        indexes = (
            (("webhook", "event_id"), True),
            (("status", "next_attempt_at"), False),
            (("webhook", "model_id", "event_id"), False),
        )


class WebhookCursor(BaseModel):
    """How far the fan-out has read the event stream (one row, ``name`` ``fanout``)."""

    name = pw.CharField(max_length=32, primary_key=True)
    last_event_id = pw.BigIntegerField()

    class Meta:
        table_name = "webhook_cursor"
