"""What every part of ``Client`` shares: the transport, the metric queue and paging."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, TypeVar

from registry.client.async_logging import MetricQueue
from registry.client.tracking_uri import get_tracking_uri
from registry.client.transport import API, Transport
from registry.entities import PagedList

T = TypeVar("T")
ASYNC_ENV = "MODELYARD_ASYNC_LOGGING"


def async_logging_default() -> bool:
    """Whether metrics go through the background queue unless a Client says otherwise.

    ``MODELYARD_ASYNC_LOGGING=false`` turns it off; it is on otherwise, for ``http(s)://`` and
    for embedded databases alike (one SQLite commit per point costs as much as a round trip).
    """
    raw = os.environ.get(ASYNC_ENV, "").strip().lower()
    return raw not in {"0", "false", "no", "off"}


class ClientBase:
    """The transport and metric queue behind every ``Client`` method.

    Args:
        tracking_uri: the server or database; the fluent URI (or its default) when None.
        registry_uri: accepted for MlflowClient compatibility; it must equal the tracking URI.
        async_logging: queue metric points and send them in batches from a thread; None uses
            ``MODELYARD_ASYNC_LOGGING`` (on unless it says false).
    """

    def __init__(
        self,
        tracking_uri: str | None = None,
        registry_uri: str | None = None,
        *,
        async_logging: bool | None = None,
    ) -> None:
        self._transport = Transport(tracking_uri or registry_uri or get_tracking_uri())
        self.tracking_uri = self._transport.tracking_uri
        if async_logging is None:
            async_logging = async_logging_default()
        self._queue = MetricQueue(self._send_metrics) if async_logging else None

    def _call(
        self, method: str, endpoint: str, body: dict[str, Any] | None = None, **kw: Any
    ) -> dict[str, Any]:
        return self._transport.call(method, endpoint, body, **kw)

    def _send_metrics(self, run_id: str, metrics: list[dict[str, Any]]) -> None:
        self._transport.call("POST", "runs/log-batch", {"run_id": run_id, "metrics": metrics})

    def flush(self, timeout: float | None = None) -> None:
        """Wait until every queued metric point is stored.

        Raises:
            RegistryError: a queued batch was refused, or the server stayed away past timeout.
        """
        if self._queue is not None:
            self._queue.flush(timeout)

    def close(self) -> None:
        """Flush queued metrics and close the connection."""
        self.flush()
        self._transport.close()

    def _page(
        self,
        method: str,
        endpoint: str,
        body: dict[str, Any],
        key: str,
        parse: Callable[[dict[str, Any]], T],
        prefix: str = API,
    ) -> PagedList[T]:
        reply = self._call(
            method, endpoint, {k: v for k, v in body.items() if v is not None}, prefix=prefix
        )
        items = [parse(item) for item in reply.get(key) or []]
        return PagedList(items, reply.get("next_page_token") or "")
