"""``/mlflow/webhooks``: MLflow's webhook endpoints; ours list and redeliver their deliveries."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from registry.search.paging import decode_page_token, encode_page_token
from registry.server.api import API_PREFIX, OUR_PREFIX, config, parse
from registry.services.webhooks import manage
from registry.services.webhooks.settings import WebhookSettings
from registry.store import webhook_deliveries as deliveries
from registry.store import webhooks as store
from registry.store.registered_models import now_ms
from registry.store.rows import Webhook as WebhookRow
from registry.store.rows import WebhookDelivery as DeliveryRow
from registry.wire import webhooks as wh
from registry.wire.responses import shaped

bp = Blueprint("webhooks", __name__)
_BASE = f"{API_PREFIX}/webhooks"
_OURS = f"{OUR_PREFIX}/webhooks"


def _settings() -> WebhookSettings:
    return WebhookSettings.from_config(config())


def webhook_json(row: WebhookRow) -> dict[str, object]:
    """A webhook row as MLflow answers it (never its secret)."""
    events = tuple(wh.WebhookEvent(**wh.event_to_wire(n)) for n in store.event_names(row))
    hook = wh.Webhook(
        webhook_id=row.id,
        name=row.name,
        url=row.url,
        events=events,
        status=row.status,
        creation_timestamp=row.creation_timestamp,
        last_updated_timestamp=row.last_updated_timestamp,
        description=row.description,
    )
    return wh.Webhook.Schema().dump(hook)  # type: ignore[no-any-return]


def delivery_json(row: DeliveryRow) -> dict[str, object]:
    """A delivery row as our endpoints answer it."""
    delivery = wh.WebhookDelivery(
        delivery_id=row.delivery_id,
        webhook_id=row.webhook_id,
        event_id=row.event_id,
        event=row.event,
        model_name=row.model_name,
        status=row.status,
        attempts=row.attempts,
        creation_timestamp=row.created_at,
        next_attempt_timestamp=row.next_attempt_at if row.status == "pending" else None,
        last_attempt_timestamp=row.last_attempt_at,
        last_status_code=row.last_status_code,
        last_response=row.last_response,
        last_error=row.last_error,
        delivered_timestamp=row.delivered_at,
    )
    return wh.WebhookDelivery.Schema().dump(delivery)  # type: ignore[no-any-return]


def _one(row: WebhookRow) -> Response:
    return jsonify(shaped(wh.WEBHOOK, webhook=webhook_json(row)))


@bp.post(_BASE)
def create_webhook() -> Response:
    """Create a webhook (admins only under --auth); its URL is checked against the SSRF guard."""
    return _one(manage.create_webhook(_settings(), parse(wh.CreateWebhookArgs())))


@bp.get(_BASE)
def list_webhooks() -> Response:
    """Webhooks, newest first, paged."""
    args = parse(wh.ListWebhooksArgs())
    found = store.list_webhooks(args["max_results"], decode_page_token(args["page_token"]))
    token = None if found.next_offset is None else encode_page_token(found.next_offset)
    hooks = [webhook_json(row) for row in found.webhooks]
    return jsonify(shaped(wh.WEBHOOKS, webhooks=hooks, next_page_token=token))


@bp.get(f"{_BASE}/<webhook_id>")
def get_webhook(webhook_id: str) -> Response:
    """One webhook."""
    return _one(store.get_webhook(webhook_id))


@bp.patch(f"{_BASE}/<webhook_id>")
def update_webhook(webhook_id: str) -> Response:
    """Change a webhook's name, description, URL, events, secret or status."""
    return _one(manage.update_webhook(_settings(), webhook_id, parse(wh.UpdateWebhookArgs())))


@bp.delete(f"{_BASE}/<webhook_id>")
def delete_webhook(webhook_id: str) -> Response:
    """Delete a webhook and its deliveries."""
    store.delete_webhook(webhook_id)
    return jsonify({})


@bp.post(f"{_BASE}/<webhook_id>/test")
def test_webhook(webhook_id: str) -> Response:
    """Send an example event to the webhook now and answer what the receiver said."""
    args = parse(wh.TestWebhookArgs())
    result = manage.test_webhook(_settings(), webhook_id, args["event"])
    return jsonify(shaped(wh.TEST_RESULT, result=wh.WebhookTestResult.Schema().dump(result)))


@bp.get(f"{_OURS}/deliveries")
def list_deliveries() -> Response:
    """Ours: a webhook's deliveries, newest event first, with attempts and the last answer."""
    args = parse(wh.DeliveriesArgs())
    store.get_webhook(args["webhook_id"])
    found = deliveries.list_deliveries(
        args["webhook_id"],
        args["status"],
        args["max_results"],
        decode_page_token(args["page_token"]),
    )
    token = None if found.next_offset is None else encode_page_token(found.next_offset)
    rows = [delivery_json(row) for row in found.deliveries]
    return jsonify(shaped(wh.DELIVERIES, deliveries=rows, next_page_token=token))


@bp.post(f"{_OURS}/deliveries/redeliver")
def redeliver() -> Response:
    """Ours: make a delivery due now again, with a fresh retry schedule."""
    args = parse(wh.RedeliverArgs())
    row = deliveries.redeliver(args["delivery_id"], now_ms())
    return jsonify(shaped(wh.DELIVERY, delivery=delivery_json(row)))
