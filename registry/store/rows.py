"""The row classes that store functions return, named for type hints outside the store.

Code outside ``registry.store`` reads and writes through the store's functions; it imports these
names only to annotate the rows it is given, never to build a query (peewee stays in the store).
"""

from __future__ import annotations

from registry.store.events import EventRow
from registry.store.models import (
    Experiment,
    LoggedModel,
    ModelVersion,
    RegisteredModel,
    Run,
    Transition,
)
from registry.store.webhook_models import Webhook, WebhookDelivery

__all__ = [
    "EventRow",
    "Experiment",
    "LoggedModel",
    "ModelVersion",
    "RegisteredModel",
    "Run",
    "Transition",
    "Webhook",
    "WebhookDelivery",
]
