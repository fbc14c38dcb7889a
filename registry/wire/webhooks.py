"""Webhooks: MLflow's shapes (``/api/2.0/mlflow/webhooks``) and ours (their deliveries).

An event is ``{"entity": "MODEL_VERSION", "action": "CREATED"}`` on the wire, as MLflow's proto
JSON writes its enums, and ``model_version.created`` inside (``registry.wire.events``).
Modelyard's own events take the same form (``{"entity": "MODEL_VERSION", "action":
"STAGE_CHANGED"}``); MLflow's client cannot decode those, so a webhook subscribed to one is
managed with Modelyard's client or CLI.
"""

from __future__ import annotations

import re
from typing import Any

from marshmallow import ValidationError, fields, post_load, validate, validates

from registry.wire.base import Entity, RequestSchema, entity, wire
from registry.wire.events import EVENT_NAMES
from registry.wire.fields import Int64
from registry.wire.responses import one, page

ACTIVE, DISABLED = "ACTIVE", "DISABLED"
STATUSES = (ACTIVE, DISABLED)
DELIVERY_STATUSES = ("pending", "delivered", "failed")
NAME_PATTERN = re.compile(r"(?=.{1,63}$)[a-z0-9]([a-z0-9._-]*[a-z0-9])?")
"""MLflow's webhook name rule (``mlflow/utils/validation.py``)."""
MAX_URL_LENGTH = 2000
MAX_DESCRIPTION_LENGTH = 16000


def event_to_wire(name: str) -> dict[str, str]:
    """``model_version.created`` as ``{"entity": "MODEL_VERSION", "action": "CREATED"}``."""
    entity_name, _, action = name.partition(".")
    return {"entity": entity_name.upper(), "action": action.upper()}


# --- responses --------------------------------------------------------------------------------


@entity
class WebhookEvent(Entity):
    """An event a webhook subscribes to: MLflow's enum names, upper case."""

    entity: str = wire(fields.String())
    action: str = wire(fields.String())

    @property
    def name(self) -> str:
        """``entity.action`` in lower case, e.g. ``model_version.created``."""
        return f"{self.entity}.{self.action}".lower()


@entity
class Webhook(Entity):
    """A webhook as MLflow answers it; its secret is never sent back."""

    webhook_id: str = wire(fields.String())
    name: str = wire(fields.String())
    url: str = wire(fields.String())
    events: tuple[WebhookEvent, ...] = wire(
        fields.List(fields.Nested(WebhookEvent.Schema)), default=()
    )
    status: str = wire(fields.String(), default=ACTIVE)
    creation_timestamp: int | None = wire(Int64(), default=None)
    last_updated_timestamp: int | None = wire(Int64(), default=None)
    description: str = wire(fields.String(), default="", omit="empty")


@entity
class WebhookTestResult(Entity):
    """What the test endpoint's request got (``success``: a 2xx answer)."""

    success: bool = wire(fields.Boolean())
    response_status: int | None = wire(fields.Integer(), default=None, omit="none")
    response_body: str | None = wire(fields.String(), default=None, omit="none")
    error_message: str | None = wire(fields.String(), default=None, omit="none")


@entity
class WebhookDelivery(Entity):
    """Ours: one event's delivery to one webhook, its attempts and the last answer."""

    delivery_id: str = wire(fields.String())
    webhook_id: str = wire(fields.String())
    event_id: int = wire(Int64())
    event: str = wire(fields.String())
    model_name: str = wire(fields.String())
    status: str = wire(fields.String())
    attempts: int = wire(fields.Integer(), default=0)
    creation_timestamp: int | None = wire(Int64(), default=None)
    next_attempt_timestamp: int | None = wire(Int64(), default=None, omit="none")
    last_attempt_timestamp: int | None = wire(Int64(), default=None, omit="none")
    last_status_code: int | None = wire(fields.Integer(), default=None, omit="none")
    last_response: str = wire(fields.String(), default="", omit="empty")
    last_error: str = wire(fields.String(), default="", omit="empty")
    delivered_timestamp: int | None = wire(Int64(), default=None, omit="none")


WEBHOOK = one("WebhookResponse", "webhook", Webhook)
WEBHOOKS = page("WebhooksPage", "webhooks", Webhook)
TEST_RESULT = one("WebhookTestResponse", "result", WebhookTestResult)
DELIVERY = one("WebhookDeliveryResponse", "delivery", WebhookDelivery)
DELIVERIES = page("WebhookDeliveriesPage", "deliveries", WebhookDelivery)


# --- requests ---------------------------------------------------------------------------------


class EventArgs(RequestSchema):
    """One event: ``entity`` and ``action`` (MLflow's enum names; any case)."""

    entity = fields.String(required=True)
    action = fields.String(required=True)

    @post_load
    def _name(self, data: dict[str, Any], **_kwargs: Any) -> str:
        name = f"{data['entity']}.{data['action']}".lower()
        if name not in EVENT_NAMES:
            raise ValidationError(
                f"Invalid webhook event {name!r}: one of {', '.join(sorted(EVENT_NAMES))}."
            )
        return name


class WebhookFieldsArgs(RequestSchema):
    """The fields create and update share."""

    name = fields.String(load_default=None)
    description = fields.String(
        load_default=None, validate=validate.Length(max=MAX_DESCRIPTION_LENGTH)
    )
    url = fields.String(load_default=None, validate=validate.Length(max=MAX_URL_LENGTH))
    secret = fields.String(load_default=None, metadata={"description": "HMAC signing secret."})
    status = fields.String(load_default=None, validate=validate.OneOf(STATUSES))

    @validates("name")
    def _valid_name(self, value: str | None, **_kwargs: Any) -> None:
        if value and not NAME_PATTERN.fullmatch(value):
            raise ValidationError(
                f"Webhook name {value!r} is invalid. It must start and end with a letter or "
                "digit, be less than 63 characters long, and contain only letters, digits, "
                "dots (.), underscores (_), and hyphens (-)."
            )


class CreateWebhookArgs(WebhookFieldsArgs):
    """``POST /mlflow/webhooks``."""

    name = fields.String(required=True)
    url = fields.String(required=True, validate=validate.Length(min=1, max=MAX_URL_LENGTH))
    events = fields.List(fields.Nested(EventArgs), required=True, validate=validate.Length(min=1))


class UpdateWebhookArgs(WebhookFieldsArgs):
    """``PATCH /mlflow/webhooks/{id}``.

    What is absent (or an empty name, URL or event list, as MLflow reads them) stays as it is.
    """

    events = fields.List(fields.Nested(EventArgs), load_default=None)


class ListWebhooksArgs(RequestSchema):
    """``GET /mlflow/webhooks``."""

    max_results = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))
    page_token = fields.String(load_default=None)


class TestWebhookArgs(RequestSchema):
    """``POST /mlflow/webhooks/{id}/test``: the event to send an example of.

    Without one, the webhook's first event.
    """

    event = fields.Nested(EventArgs, load_default=None)


class DeliveriesArgs(RequestSchema):
    """Ours: a webhook's deliveries, newest event first, optionally of one status."""

    webhook_id = fields.String(required=True)
    status = fields.String(load_default=None, validate=validate.OneOf(DELIVERY_STATUSES))
    max_results = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))
    page_token = fields.String(load_default=None)


class RedeliverArgs(RequestSchema):
    """Ours: send a delivery again, with a fresh retry schedule."""

    delivery_id = fields.String(required=True)
