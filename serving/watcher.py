"""Load the model in the background and follow a stage or alias as it moves.

One daemon thread per served model in each worker, started after fork. It loads the model if
the worker has none, then, for ``models:/name/Stage`` and ``models:/name@alias``, checks the
registry whenever the model may have changed. When the target points at another version, the
new version loads beside the old one and replaces it with one reference assignment
(``ModelSlot.swap``). A version that fails to load is not swapped in and not retried until the
target moves again. ``stop`` ends the thread when the model is unloaded (after the wait or load
in progress, whose result is then dropped: a retired slot takes no model); the thread closes its
registry clients as it ends. One check runs at a time (the thread's and a repository load's).

Following is by push (``follow=push``, the default): the thread keeps one long-poll of the
registry's event stream (``GET /api/2.0/modelyard/events?model=NAME&wait_seconds=...``)
outstanding, and checks as soon as it answers with an event of the model, so a promotion is
served within a fraction of a second. An empty answer (the wait ran out) also leads to a check,
a safety net. When the stream fails (an older registry without it, an outage, a 503 refusal
from a registry whose waiting long-polls are at their cap) the thread logs one warning, falls
back to polling every ``poll_interval`` and tries the stream again after a backoff that doubles
up to ``MAX_BACKOFF_SECONDS``. A cursor the registry sends back lower (its database was
restored) is adopted, and leads to a check at once. ``follow=poll`` only polls.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from registry.errors import RegistryError
from serving.config import ServingConfig
from serving.loader import ModelSource, is_followable, registered_name
from serving.slot import ModelSlot

if TYPE_CHECKING:
    from registry.client import Client

logger = logging.getLogger(__name__)

WAIT_SECONDS = 25.0
"""How long one long-poll asks the registry to wait (its cap is 30 s)."""
MAX_BACKOFF_SECONDS = 60.0
"""The longest wait before trying the event stream again after it failed."""


class Watcher:
    """Loads and follows the served model for one worker."""

    def __init__(
        self,
        config: ServingConfig,
        slot: ModelSlot,
        uri: str | None = None,
        *,
        remote_only: bool = False,
        on_loaded: Callable[[], None] | None = None,
    ) -> None:
        uri = config.model_uri if uri is None else uri
        self.config = config
        self.slot = slot
        self.follows = is_followable(uri)
        self.source = ModelSource(
            uri, config.tracking_uri, allow_pickle=config.allow_pickle, remote_only=remote_only
        )
        self.model_name = registered_name(uri)
        self.on_loaded = on_loaded
        """Called by the thread once it has loaded the model (not when it was loaded already)."""
        self._checking = threading.Lock()
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None
        self._stream: Client | None = None
        self._cursor: int | None = None
        self._failures = 0
        self._retry_push_at = 0.0

    def start(self) -> None:
        """Start the daemon thread (a no-op when the model is loaded and cannot move)."""
        if self._thread is not None or (self.slot.current is not None and not self.follows):
            return
        self._thread = threading.Thread(target=self._run, name="model-watcher", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop following (the model is unloaded): the thread ends after its current wait."""
        self._stopped.set()
        if self._thread is None:
            self._close()

    @property
    def stopped(self) -> bool:
        """True once ``stop`` was called."""
        return self._stopped.is_set()

    def _run(self) -> None:
        try:
            loading = self.slot.current is None
            while self.slot.current is None and not self._stopped.is_set():
                self.check()
                if self.slot.current is None:
                    self._stopped.wait(self.config.poll_interval)
            if loading and self.on_loaded is not None and not self._stopped.is_set():
                self.on_loaded()
            while self.follows and not self._stopped.is_set():
                self.wait_for_change()
                self.check()
        finally:
            self._close()

    def _close(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            stream.close()
        self.source.close()

    def wait_for_change(self) -> None:
        """Return when the target may have moved: an event of its model, or a poll interval."""
        pushing = self.config.follow == "push" and time.monotonic() >= self._retry_push_at
        if not pushing or not self._long_poll():
            self._stopped.wait(self.config.poll_interval)

    def _long_poll(self) -> bool:
        """One request of the event stream; False when it failed or answered at once, empty."""
        started = time.monotonic()
        try:
            client = self._stream_client()
            if self._cursor is None:
                # Start from now; the check that follows sees anything before it.
                self._cursor = client.get_events().next_after
                return True
            page = client.get_events(self._cursor, model=self.model_name, wait_seconds=WAIT_SECONDS)
        except RegistryError as err:
            self._stream_failed(err.message)
            return False
        except Exception as err:  # the stream is an optimisation: never let it stop following
            self._stream_failed(f"{type(err).__name__}: {err}")
            return False
        if self._failures:
            logger.info("following %s through the registry's event stream", self.source.uri)
        self._failures = 0
        went_back = page.next_after < self._cursor
        self._cursor = page.next_after
        # An empty answer long before its wait ran out (an older registry answers a wait it has
        # no thread for so, not with a 503): pace the next one as polling would.
        return bool(page.events) or went_back or time.monotonic() - started >= WAIT_SECONDS / 2

    def _stream_client(self) -> Client:
        if self._stream is None:
            from registry.client import Client  # only a registry URI needs it (import ~0.2 s)

            self._stream = Client(self.config.tracking_uri or None, async_logging=False)
        return self._stream

    def _stream_failed(self, reason: str) -> None:
        self._failures += 1
        delay = min(MAX_BACKOFF_SECONDS, 2.0 ** (self._failures - 1))
        self._retry_push_at = time.monotonic() + delay * random.uniform(0.5, 1.0)
        # One warning when the stream stops working; the retries after it only at DEBUG.
        logger.log(
            logging.WARNING if self._failures == 1 else logging.DEBUG,
            "event stream of %s unavailable (%s): polling every %ss, retrying in %.0fs",
            self.config.tracking_uri or "the registry",
            reason,
            self.config.poll_interval,
            delay,
        )

    def check(self, timeout: float = -1) -> bool:
        """Resolve the URI once; load and swap in the version it names if it is new.

        One check at a time: False when another did not end within ``timeout`` seconds (-1:
        wait as long as it takes), True once this one ran.
        """
        if not self._checking.acquire(timeout=timeout):
            return False
        try:
            self._check()
        finally:
            self._checking.release()
        return True

    def _check(self) -> None:
        if self._stopped.is_set():
            return
        try:
            target = self.source.resolve()
        except RegistryError as err:
            logger.warning("cannot resolve %s: %s", self.source.uri, err.message)
            if self.slot.current is None:
                self.slot.load_error = err.message
            return
        current = self.slot.current
        version = target.version if target else ""
        if current is not None and (target is None or version == current.version):
            return
        if current is not None and version == self.slot.failed_version:
            return
        try:
            model = self.source.load(target)
        except Exception as err:
            self.slot.record_failure(version, f"{type(err).__name__}: {err}")
            return
        if not self.slot.swap(model):  # retired meanwhile: the model is dropped
            logger.info("dropped %s version %s: it was unloaded", model.uri, model.version)
