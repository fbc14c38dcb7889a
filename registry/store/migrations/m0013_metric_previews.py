"""Migration 13: ``metric_previews``, the chart grid's downsampled histories.

The model classes below are a frozen copy of ``registry/store/models.py`` as they stood when this
migration was written (peewee's rule for migrations); ``runs`` is only referenced, not created.
A preview goes with its run (``ON DELETE CASCADE``). The primary key leads with the run, so it
also serves the foreign key.
"""

from __future__ import annotations

import peewee as pw

_proxy = pw.DatabaseProxy()


class BaseModel(pw.Model):
    class Meta:
        database = _proxy
        legacy_table_names = False


class Run(BaseModel):
    run_uuid = pw.CharField(max_length=32, primary_key=True)

    class Meta:
        table_name = "runs"


class MetricPreview(BaseModel):
    run = pw.ForeignKeyField(Run, on_delete="CASCADE", index=False)
    key = pw.CharField(max_length=250)
    points = pw.IntegerField()
    timed = pw.BooleanField()
    size = pw.BigIntegerField()
    body = pw.TextField()

    class Meta:
        table_name = "metric_previews"
        primary_key = pw.CompositeKey("run", "key", "points", "timed")


def up(database: pw.Database) -> None:
    """Create the table."""
    _proxy.initialize(database)
    database.create_tables([MetricPreview], safe=True)


def down(database: pw.Database) -> None:
    """Drop the table."""
    _proxy.initialize(database)
    database.drop_tables([MetricPreview], safe=True)
