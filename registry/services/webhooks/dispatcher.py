"""The delivery worker: fan events out to delivery rows, claim due ones, send, schedule retries.

Every server process runs one as a daemon thread (``REGISTRY_WEBHOOK_WORKER``, on under
``modelyard server``), or ``modelyard webhooks worker`` runs one on its own. Any number may run
against one database: fan-out holds the cursor row's lock and claims skip rows another worker
holds, so each event becomes one delivery and each attempt is made by one worker. A claim is a
lease: a worker that dies mid-send leaves its rows to be claimed again when the lease ends.
The schedule lives in the rows (``next_attempt_at``), so a restart loses no retry.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from typing import Any

from registry.errors import RegistryError
from registry.services.webhooks import payloads, schedule, sender, signing
from registry.services.webhooks.manage import secret_of
from registry.services.webhooks.settings import WebhookSettings
from registry.store import use_database
from registry.store import webhook_deliveries as deliveries
from registry.store.registered_models import now_ms
from registry.store.rows import WebhookDelivery
from registry.store.webhooks import get_webhook

logger = logging.getLogger(__name__)

CLAIM_BATCH = 1
"""Deliveries claimed at a time: one, so a crashed worker's lease (on one row) is short."""
LEASE_MARGIN_SECONDS = 5
"""Lease time beyond the sends' deadlines: reading the event and recording the attempt."""


class Dispatcher:
    """One worker's loop over one database."""

    def __init__(self, settings: WebhookSettings, database: Any) -> None:
        self.settings = settings
        self.database = database
        self.owner = str(uuid.uuid4())
        # A send ends by its deadline, DNS lookup included (``sender.post``), so a live worker
        # records its attempt before its lease ends; if it does not (a stalled process), the
        # attempt's outcome is dropped, not recorded over the worker that took the delivery over.
        per_send = settings.timeout_seconds
        self.lease_ms = int((CLAIM_BATCH * per_send + LEASE_MARGIN_SECONDS) * 1000)

    def run_once(self) -> int:
        """Fan out new events and send the deliveries due now; how many were sent."""
        with use_database(self.database), self.database.connection_context():
            deliveries.fan_out(now_ms())
            claimed = deliveries.claim_due(self.owner, now_ms(), self.lease_ms, CLAIM_BATCH)
        for delivery in claimed:
            self._send(delivery)
        return len(claimed)

    def _send(self, delivery: WebhookDelivery) -> None:
        with use_database(self.database), self.database.connection_context():
            event = deliveries.event_of(delivery)
            try:
                hook = get_webhook(delivery.webhook_id)
                secret = secret_of(self.settings, hook)
            except RegistryError as err:  # deleted meanwhile, or the key cannot open the secret
                self._record(delivery, deliveries.Attempt(None, "", err.message))
                return
        if event is None:
            self._record(delivery, deliveries.Attempt(None, "", "the event no longer exists"))
            return
        # Built from the stored event each time: every attempt sends the same bytes.
        body = payloads.event_body(event)
        timestamp = str(int(time.time()))
        headers = signing.headers(secret, delivery.delivery_id, timestamp, body)
        attempt = sender.post(
            hook.url, body, headers, self.settings.allow, self.settings.timeout_seconds
        )
        self._record(delivery, attempt)

    def _record(self, delivery: WebhookDelivery, attempt: deliveries.Attempt) -> None:
        now = now_ms()
        code = attempt.status_code
        delivered = code is not None and 200 <= code < 300
        retry = None
        if not delivered:
            retry = schedule.retry_at(delivery.attempts + 1, now, self.settings.retry_base_seconds)
        with use_database(self.database), self.database.connection_context():
            recorded = deliveries.record_attempt(
                delivery, self.owner, attempt, now, delivered=delivered, retry_at=retry
            )
        if not recorded:
            logger.warning(
                "webhook delivery %s (%s): this worker lost its lease during attempt %d (it ran "
                "out, or the delivery was redelivered meanwhile); the attempt's outcome "
                "(status %s) is dropped, not recorded",
                delivery.delivery_id,
                delivery.event,
                delivery.attempts + 1,
                code,
            )
        elif not delivered:
            logger.warning(
                "webhook delivery %s (%s) attempt %d failed: %s",
                delivery.delivery_id,
                delivery.event,
                delivery.attempts + 1,
                attempt.error,
            )

    def run_forever(self, stop: threading.Event) -> None:
        """Loop until ``stop`` is set: straight on while there is work, else every poll."""
        while not stop.is_set():
            try:
                busy = self.run_once() > 0
            except Exception:  # a database outage must not end the worker: log, wait, retry
                logger.exception("webhook worker iteration failed")
                busy = False
            if not busy:
                stop.wait(self.settings.poll_seconds)


def start_worker_thread(settings: WebhookSettings, database: Any) -> threading.Event:
    """Run a ``Dispatcher`` in a daemon thread; set the returned event to stop it."""
    stop = threading.Event()
    worker = Dispatcher(settings, database)
    thread = threading.Thread(
        target=worker.run_forever, args=(stop,), name="webhook-worker", daemon=True
    )
    thread.start()
    return stop
