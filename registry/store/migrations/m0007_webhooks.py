"""Migration 7: webhooks, their durable deliveries, and the fan-out cursor.

The model classes below are a frozen copy of ``registry/store/webhook_models.py`` as it stood
when this migration was written (peewee's rule for migrations). A delivery belongs to its
webhook (deleted with it); it names its event by id only, so it outlives a pruned event.
"""

from __future__ import annotations

import peewee as pw

_proxy = pw.DatabaseProxy()


class BaseModel(pw.Model):
    class Meta:
        database = _proxy
        legacy_table_names = False


class Webhook(BaseModel):
    id = pw.CharField(max_length=36, primary_key=True)
    name = pw.CharField(max_length=63)
    description = pw.TextField(default="")
    url = pw.CharField(max_length=2000)
    events = pw.TextField()
    status = pw.CharField(max_length=16)
    secret = pw.TextField(null=True)
    from_event_id = pw.BigIntegerField(default=0)
    creation_timestamp = pw.BigIntegerField()
    last_updated_timestamp = pw.BigIntegerField()

    class Meta:
        table_name = "webhooks"


class WebhookDelivery(BaseModel):
    id = pw.BigAutoField()
    delivery_id = pw.CharField(max_length=36, unique=True)
    webhook = pw.ForeignKeyField(Webhook, on_delete="CASCADE")
    event_id = pw.BigIntegerField()
    model_name = pw.CharField(max_length=256)
    model_id = pw.IntegerField(null=True)
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

    class Meta:
        table_name = "webhook_deliveries"
        indexes = (
            (("webhook", "event_id"), True),
            (("status", "next_attempt_at"), False),
            (("webhook", "model_id", "event_id"), False),
        )


class WebhookCursor(BaseModel):
    name = pw.CharField(max_length=32, primary_key=True)
    last_event_id = pw.BigIntegerField()

    class Meta:
        table_name = "webhook_cursor"


FROZEN = (Webhook, WebhookDelivery, WebhookCursor)


def up(database: pw.Database) -> None:
    """Create the tables."""
    _proxy.initialize(database)
    database.create_tables(FROZEN, safe=True)


def down(database: pw.Database) -> None:
    """Drop the tables."""
    _proxy.initialize(database)
    database.drop_tables(FROZEN, safe=True, cascade=isinstance(database, pw.PostgresqlDatabase))
