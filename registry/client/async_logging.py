"""Metric points that do not wait on the network: queued, then sent in batches by a thread.

``log_metric`` appends to a queue and returns. A daemon thread drains it into ``log-batch``
calls of at most 1000 points per run. When the server is away it keeps the points and tries
again under the project's retry policy (``registry.retry``); an error that retrying cannot fix
(a 4xx) is kept and raised by the next ``flush`` or ``raise_pending``. ``flush`` runs at
end_run and at interpreter exit.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable
from typing import Any

import tenacity

from registry.errors import RegistryError, TemporarilyUnavailable
from registry.retry import policy

logger = logging.getLogger(__name__)

BATCH_SIZE = 1000
Send = Callable[[str, list[dict[str, Any]]], None]
_queues: weakref.WeakSet[MetricQueue] = weakref.WeakSet()


class MetricQueue:
    """A queue of ``(run_id, metric dict)`` points drained by one background thread.

    Args:
        send: posts one run's batch of metric dicts (``runs/log-batch``).
        max_backoff: the longest wait between attempts while the server is away.
    """

    def __init__(self, send: Send, max_backoff: float = 5.0) -> None:
        self._send = send
        self._max_backoff = max_backoff
        self._points: deque[tuple[str, dict[str, Any]]] = deque()
        self._cond = threading.Condition()
        self._in_flight = 0
        self._error: RegistryError | None = None
        self._thread: threading.Thread | None = None
        _queues.add(self)

    def put(self, run_id: str, metric: dict[str, Any]) -> None:
        """Queue one point; raise first if an earlier batch failed for good.

        Raises:
            RegistryError: a previous batch was refused by the server.
        """
        self.raise_pending()
        with self._cond:
            self._points.append((run_id, metric))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="modelyard-metrics", daemon=True
                )
                self._thread.start()
            self._cond.notify()

    def raise_pending(self) -> None:
        """Raise (once) the error of a batch the server refused.

        Raises:
            RegistryError: that error.
        """
        with self._cond:
            error, self._error = self._error, None
        if error is not None:
            raise error

    def flush(self, timeout: float | None = None) -> None:
        """Wait until every queued point is stored, then raise any refused batch's error.

        Raises:
            TemporarilyUnavailable: points were still unsent after ``timeout`` seconds.
            RegistryError: a batch was refused by the server.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while self._points or self._in_flight:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    count = len(self._points) + self._in_flight
                    raise TemporarilyUnavailable(f"{count} metric points are not stored yet")
                self._cond.wait(remaining if remaining is not None else 1.0)
        self.raise_pending()

    def _take(self) -> list[tuple[str, dict[str, Any]]]:
        with self._cond:
            while not self._points:
                self._cond.wait()
            run_id = self._points[0][0]
            batch: list[tuple[str, dict[str, Any]]] = []
            while self._points and len(batch) < BATCH_SIZE and self._points[0][0] == run_id:
                batch.append(self._points.popleft())
            self._in_flight = len(batch)
            return batch

    def _run(self) -> None:
        # While the server is away, the batch is sent again under the project's retry policy
        # (backoff up to max_backoff, for as long as it takes); flush() bounds the wait. Each
        # wait is a WARNING: this thread is the only one that knows the points are not stored.
        while True:
            batch = self._take()
            run_id = batch[0][0]
            retrying = policy(
                retry=tenacity.retry_if_exception_type(TemporarilyUnavailable),
                attempts=None,
                first=0.1,
                cap=self._max_backoff,
                name=f"sending {len(batch)} metric points of run {run_id} in the background",
                log_level=logging.WARNING,
            )
            try:
                retrying(self._send, run_id, [m for _, m in batch])
            except RegistryError as err:
                logger.error("metric batch refused: %s", err)
                with self._cond:
                    self._error = err
            except Exception as err:  # an unexpected bug must not kill the thread silently
                logger.exception("metric batch failed")
                with self._cond:
                    self._error = RegistryError(f"metric batch failed: {err}")
            with self._cond:
                self._in_flight = 0
                self._cond.notify_all()


def _flush_all() -> None:
    for queue in list(_queues):
        try:
            queue.flush(timeout=60)
        except RegistryError as err:
            logger.error("metrics lost at exit: %s", err)


atexit.register(_flush_all)
