"""Create, update and test webhooks: MLflow's rules, plus the SSRF guard and encrypted secrets."""

from __future__ import annotations

import time
import uuid
from typing import Any

from registry.services.webhooks import payloads, sender, signing
from registry.services.webhooks.crypto import WebhookKeyInvalid, WebhookKeyMissing
from registry.services.webhooks.settings import WebhookSettings
from registry.services.webhooks.ssrf import check_url
from registry.store import webhooks as store
from registry.store.registered_models import now_ms
from registry.store.rows import Webhook
from registry.wire.webhooks import ACTIVE, WebhookTestResult


def create_webhook(settings: WebhookSettings, args: dict[str, Any]) -> Webhook:
    """Store a webhook after checking its URL; its secret is encrypted first.

    Raises:
        WebhookUrlRefused: the URL is not one a delivery may reach.
        WebhookKeyMissing: no ``MODELYARD_WEBHOOK_KEY`` (webhooks need one).
    """
    settings.box()  # every webhook needs the key: the server refuses to start without one
    check_url(args["url"], settings.allow, resolve=False)
    return store.create_webhook(
        name=args["name"],
        url=args["url"].strip(),
        events=list(dict.fromkeys(args["events"])),
        description=args["description"] or "",
        secret=_encrypted(settings, args["secret"]),
        status=args["status"] or ACTIVE,
    )


def update_webhook(settings: WebhookSettings, webhook_id: str, args: dict[str, Any]) -> Webhook:
    """Change what the request names, as MLflow does.

    An empty name, URL or event list is read as absent; an empty description or secret
    clears it.

    Raises:
        NotFound: there is no such webhook.
        WebhookUrlRefused: the new URL is not one a delivery may reach.
        WebhookKeyMissing: a new secret but no ``MODELYARD_WEBHOOK_KEY``.
    """
    store.get_webhook(webhook_id)
    changes: dict[str, Any] = {}
    if args["name"]:
        changes["name"] = args["name"]
    if args["url"]:
        check_url(args["url"], settings.allow, resolve=False)
        changes["url"] = args["url"].strip()
    if args["events"]:
        changes["events"] = list(dict.fromkeys(args["events"]))
    if args["description"] is not None:
        changes["description"] = args["description"]
    if args["secret"] is not None:
        changes["secret"] = _encrypted(settings, args["secret"])
    if args["status"] is not None:
        changes["status"] = args["status"]
    return store.update_webhook(webhook_id, changes)


def _encrypted(settings: WebhookSettings, secret: str | None) -> str | None:
    return settings.box().encrypt(secret) if secret else None


def secret_of(settings: WebhookSettings, row: Webhook) -> str | None:
    """The webhook's signing secret in the clear, or None when it has none.

    Raises:
        WebhookKeyMissing, WebhookKeyInvalid: the key cannot open it.
    """
    return settings.box().decrypt(row.secret) if row.secret else None


def test_webhook(
    settings: WebhookSettings, webhook_id: str, event: str | None
) -> WebhookTestResult:
    """Send an example of ``event`` (default: the webhook's first) now; what it got.

    Raises:
        NotFound: there is no such webhook.
    """
    row = store.get_webhook(webhook_id)
    name = event or store.event_names(row)[0]
    entity, _, action = name.partition(".")
    body = payloads.body(entity, action, now_ms(), payloads.example_data(name))
    try:
        secret = secret_of(settings, row)
    except (WebhookKeyMissing, WebhookKeyInvalid) as err:
        return WebhookTestResult(success=False, error_message=err.message)
    headers = signing.headers(secret, str(uuid.uuid4()), str(int(time.time())), body)
    attempt = sender.post(row.url, body, headers, settings.allow, settings.timeout_seconds)
    if attempt.status_code is None:
        return WebhookTestResult(
            success=False, error_message=f"Failed to test webhook: {attempt.error}"
        )
    return WebhookTestResult(
        success=200 <= attempt.status_code < 300,
        response_status=attempt.status_code,
        response_body=attempt.response,
        error_message=attempt.error or None,
    )


def check_key_at_start(settings: WebhookSettings) -> None:
    """Refuse to start a server whose webhooks the configured key cannot serve.

    A key that is set must be a Fernet key; when any webhook exists a key must be set, and it
    must open the stored secrets.

    Raises:
        WebhookKeyMissing: webhooks exist and ``MODELYARD_WEBHOOK_KEY`` is not set.
        WebhookKeyInvalid: the key is malformed or does not open the stored secrets.
    """
    if settings.key:
        settings.box()
    count = store.count_webhooks()
    if count == 0:
        return
    if not settings.key:
        raise WebhookKeyMissing(
            f"This database has {count} webhook(s) but MODELYARD_WEBHOOK_KEY is not set: their "
            "signing secrets cannot be used. Set it to the key the webhooks were created with "
            "(`modelyard webhooks generate-key` makes a new one)."
        )
    sample = store.a_stored_secret()
    if sample is not None:
        settings.box().decrypt(sample)
