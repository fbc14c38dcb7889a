"""Migration 6: the event stream (``registry_events``) and its id sequence.

The model classes below are a frozen copy of ``registry/store/events.py`` as it stood when this
migration was written (peewee's rule for migrations). ``registry_events`` has no foreign key: an
event outlives the model it tells of (``registered_model.deleted`` is the last event of one).
The index on ``(model_name, id)`` serves a model's stream; the primary key serves the whole one.
"""

from __future__ import annotations

import peewee as pw

_proxy = pw.DatabaseProxy()


class BaseModel(pw.Model):
    class Meta:
        database = _proxy
        legacy_table_names = False


class EventRow(BaseModel):
    id = pw.BigIntegerField(primary_key=True)
    entity = pw.CharField(max_length=64)
    action = pw.CharField(max_length=32)
    model_name = pw.CharField(max_length=256)
    model_id = pw.IntegerField(null=True)
    version = pw.IntegerField(null=True)
    payload = pw.TextField(column_name="data")
    user_id = pw.CharField(max_length=256, default="")
    timestamp = pw.BigIntegerField()

    class Meta:
        table_name = "registry_events"
        indexes = ((("model_name", "id"), False),)


class EventSequence(BaseModel):
    id = pw.IntegerField(primary_key=True)
    last_id = pw.BigIntegerField()

    class Meta:
        table_name = "registry_event_sequence"


FROZEN = (EventRow, EventSequence)


def up(database: pw.Database) -> None:
    """Create the tables."""
    _proxy.initialize(database)
    database.create_tables(FROZEN, safe=True)


def down(database: pw.Database) -> None:
    """Drop the tables."""
    _proxy.initialize(database)
    database.drop_tables(FROZEN, safe=True)
