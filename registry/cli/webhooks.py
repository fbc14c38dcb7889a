"""``modelyard webhooks``: a key, a stand-alone delivery worker, and deliveries over the API.

Also the server's start-up check (``check_webhook_key``): it refuses to start when webhooks
exist but ``MODELYARD_WEBHOOK_KEY`` is missing or cannot open their secrets.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import click

from registry.config import DEFAULT_DATABASE_URL, Config
from registry.errors import RegistryError


def _settings(config: Config) -> Any:
    from registry.services.webhooks.settings import WebhookSettings

    try:
        return WebhookSettings.from_config(config)
    except ValueError as err:
        raise click.UsageError(f"MODELYARD_WEBHOOK_ALLOW / --webhook-allow: {err}") from None


def check_webhook_key(config: Config) -> None:
    """Refuse (one line, no traceback) a key that is malformed or that the webhooks need.

    Raises:
        click.ClickException: webhooks exist but the key is missing, malformed or wrong.
    """
    from registry.services.webhooks.manage import check_key_at_start
    from registry.store.migrate import schema_session

    settings = _settings(config)
    try:
        with schema_session(config.database_url, config.database_connect_timeout_seconds):
            check_key_at_start(settings)
    except RegistryError as err:
        raise click.ClickException(err.message) from None


@click.group("webhooks")
def webhooks_group() -> None:
    """Webhook deliveries: list, inspect and redeliver; a key; a stand-alone worker."""


@webhooks_group.command("generate-key")
def generate_key() -> None:
    """Print a new key for MODELYARD_WEBHOOK_KEY (keep it secret; keep it stable)."""
    from registry.services.webhooks.crypto import generate_key as make

    click.echo(make())


@webhooks_group.command("worker")
@click.option(
    "--backend-store-uri",
    "database_url",
    default=None,
    help=f"Database URI (default {DEFAULT_DATABASE_URL}, or REGISTRY_DATABASE_URL).",
)
@click.option(
    "--webhook-allow",
    "webhook_allow",
    multiple=True,
    metavar="HOST[:PORT]",
    help="A receiver allowed although private or loopback, and over http (repeatable).",
)
def worker(database_url: str | None, webhook_allow: tuple[str, ...]) -> None:
    """Deliver webhooks until stopped (for servers run with --no-webhook-worker)."""
    from registry.services.webhooks.dispatcher import Dispatcher
    from registry.store import open_database, use_database
    from registry.store.migrate import check_schema

    try:
        config = Config.from_env(
            database_url=database_url, webhook_allow=",".join(webhook_allow) or None
        )
    except ValueError as err:
        raise click.UsageError(str(err)) from None
    check_webhook_key(config)
    database = open_database(
        config.database_url,
        busy_timeout_ms=config.sqlite_busy_timeout_ms,
        pool_size=2,
        connect_timeout=config.database_connect_timeout_seconds,
        statement_timeout_ms=config.statement_timeout_ms,
    )
    try:
        with use_database(database), database.connection_context():
            check_schema()
    except RegistryError as err:
        raise click.ClickException(err.message) from None
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    click.echo(f"Modelyard webhook worker on {config.database_url}")
    try:
        Dispatcher(_settings(config), database).run_forever(stop)
    except KeyboardInterrupt:
        stop.set()


_TRACKING = click.option(
    "--tracking-uri",
    envvar="MLFLOW_TRACKING_URI",
    default="http://127.0.0.1:5000",
    show_default=True,
    help="The server (or MLFLOW_TRACKING_URI).",
)


def _client(tracking_uri: str) -> Any:
    from registry.client import Client

    return Client(tracking_uri, async_logging=False)


def _when(ms: int | None) -> str:
    if ms is None:
        return ""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S")


def _echo_rows(headers: tuple[str, ...], rows: Sequence[tuple[object, ...]]) -> None:
    cells = [headers, *[tuple("" if c is None else str(c) for c in row) for row in rows]]
    widths = [max(len(str(row[i])) for row in cells) for i in range(len(headers))]
    for row in cells:
        click.echo("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


def _api(call: Any) -> Any:
    try:
        return call()
    except RegistryError as err:
        raise click.ClickException(f"{err.error_code}: {err.message}") from None


@webhooks_group.command("list")
@_TRACKING
def list_command(tracking_uri: str) -> None:
    """List the webhooks: id, name, status, URL and events."""
    hooks = _api(lambda: _client(tracking_uri).list_webhooks(max_results=1000))
    rows = [
        (h.webhook_id, h.name, h.status, h.url, ",".join(e.name for e in h.events)) for h in hooks
    ]
    _echo_rows(("ID", "NAME", "STATUS", "URL", "EVENTS"), rows)


@webhooks_group.command("deliveries")
@_TRACKING
@click.argument("webhook_id")
@click.option("--status", type=click.Choice(["pending", "delivered", "failed"]), default=None)
@click.option("--max-results", type=click.IntRange(1, 1000), default=50, show_default=True)
def deliveries_command(
    tracking_uri: str, webhook_id: str, status: str | None, max_results: int
) -> None:
    """A webhook's deliveries, newest first, with attempts and the last answer."""
    page = _api(
        lambda: _client(tracking_uri).list_webhook_deliveries(
            webhook_id, status=status, max_results=max_results
        )
    )
    rows = [
        (
            d.delivery_id,
            d.event_id,
            d.event,
            d.model_name,
            d.status,
            d.attempts,
            d.last_status_code,
            _when(d.next_attempt_timestamp),
            d.last_error[:60],
        )
        for d in page
    ]
    headers = ("DELIVERY", "EVENT_ID", "EVENT", "MODEL", "STATUS", "ATTEMPTS", "LAST_CODE")
    _echo_rows((*headers, "NEXT_ATTEMPT", "LAST_ERROR"), rows)


@webhooks_group.command("redeliver")
@_TRACKING
@click.argument("delivery_id")
def redeliver_command(tracking_uri: str, delivery_id: str) -> None:
    """Send a delivery again now, with a fresh retry schedule."""
    found = _api(lambda: _client(tracking_uri).redeliver_webhook_delivery(delivery_id))
    click.echo(f"delivery {found.delivery_id} ({found.event}) is due again")


commands = (webhooks_group,)
