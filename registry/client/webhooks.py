"""Webhooks: MlflowClient's webhook methods, plus ours for their deliveries.

``create_webhook`` and friends call MLflow's ``/api/2.0/mlflow/webhooks`` endpoints with
MLflow's shapes; ``list_webhook_deliveries`` and ``redeliver_webhook_delivery`` call ours
(``/api/2.0/modelyard/webhooks``). Events are given as ``"model_version.created"`` strings or
``WebhookEvent`` objects, as MlflowClient takes them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from registry.client.base import ClientBase
from registry.client.transport import OURS
from registry.entities import PagedList
from registry.wire.webhooks import (
    Webhook,
    WebhookDelivery,
    WebhookEvent,
    WebhookTestResult,
    event_to_wire,
)

EventLike = str | WebhookEvent


def _event(event: EventLike) -> dict[str, str]:
    if isinstance(event, WebhookEvent):
        return {"entity": event.entity, "action": event.action}
    return event_to_wire(event)


def _status(status: str | None) -> str | None:
    return None if status is None else str(status).upper()


class WebhooksMixin(ClientBase):
    """Create, read, list, update, delete and test webhooks; read and redeliver deliveries."""

    def create_webhook(
        self,
        name: str,
        url: str,
        events: Sequence[EventLike],
        description: str | None = None,
        secret: str | None = None,
        status: str | None = None,
    ) -> Webhook:
        """Create a webhook that receives ``events`` (an admin's call under ``--auth``).

        Raises:
            InvalidParameter: a bad name, event or status, or a URL the SSRF guard refuses,
                or no ``MODELYARD_WEBHOOK_KEY`` on the server.
        """
        body = {
            "name": name,
            "url": url,
            "events": [_event(e) for e in events],
            "description": description,
            "secret": secret,
            "status": _status(status),
        }
        reply = self._call("POST", "webhooks", {k: v for k, v in body.items() if v is not None})
        return Webhook.from_dict(reply["webhook"])

    def get_webhook(self, webhook_id: str) -> Webhook:
        """One webhook (never its secret).

        Raises:
            NotFound: no such webhook.
        """
        return Webhook.from_dict(self._call("GET", f"webhooks/{webhook_id}")["webhook"])

    def list_webhooks(
        self, max_results: int | None = None, page_token: str | None = None
    ) -> PagedList[Webhook]:
        """One page of webhooks, newest first."""
        body = {"max_results": max_results, "page_token": page_token}
        return self._page("GET", "webhooks", body, "webhooks", Webhook.from_dict)

    def update_webhook(
        self,
        webhook_id: str,
        name: str | None = None,
        description: str | None = None,
        url: str | None = None,
        events: Sequence[EventLike] | None = None,
        secret: str | None = None,
        status: str | None = None,
    ) -> Webhook:
        """Change the fields given; the others stay as they are.

        Raises:
            NotFound: no such webhook.
            InvalidParameter: as for ``create_webhook``.
        """
        body: dict[str, Any] = {
            "name": name,
            "description": description,
            "url": url,
            "events": None if events is None else [_event(e) for e in events],
            "secret": secret,
            "status": _status(status),
        }
        reply = self._call(
            "PATCH", f"webhooks/{webhook_id}", {k: v for k, v in body.items() if v is not None}
        )
        return Webhook.from_dict(reply["webhook"])

    def delete_webhook(self, webhook_id: str) -> None:
        """Delete a webhook and its deliveries.

        Raises:
            NotFound: no such webhook.
        """
        self._call("DELETE", f"webhooks/{webhook_id}")

    def test_webhook(self, webhook_id: str, event: EventLike | None = None) -> WebhookTestResult:
        """Send an example ``event`` (default: the webhook's first) now; what the receiver said.

        Raises:
            NotFound: no such webhook.
        """
        body = {} if event is None else {"event": _event(event)}
        reply = self._call("POST", f"webhooks/{webhook_id}/test", body)
        return WebhookTestResult.from_dict(reply["result"])

    def list_webhook_deliveries(
        self,
        webhook_id: str,
        status: str | None = None,
        max_results: int = 100,
        page_token: str | None = None,
    ) -> PagedList[WebhookDelivery]:
        """Ours: a webhook's deliveries, newest event first, with attempts and last answers.

        ``status`` keeps one kind: ``pending``, ``delivered`` or ``failed``.

        Raises:
            NotFound: no such webhook.
        """
        body = {
            "webhook_id": webhook_id,
            "status": status,
            "max_results": max_results,
            "page_token": page_token,
        }
        return self._page(
            "GET", "webhooks/deliveries", body, "deliveries", WebhookDelivery.from_dict, OURS
        )

    def redeliver_webhook_delivery(self, delivery_id: str) -> WebhookDelivery:
        """Ours: send a delivery again now, with a fresh retry schedule.

        Raises:
            NotFound: no such delivery.
        """
        reply = self._call(
            "POST", "webhooks/deliveries/redeliver", {"delivery_id": delivery_id}, prefix=OURS
        )
        return WebhookDelivery.from_dict(reply["delivery"])
