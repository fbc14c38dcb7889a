"""Ours, beyond MLflow: read the registry's event stream, optionally waiting for the next event."""

from __future__ import annotations

from dataclasses import dataclass

from registry.client.base import ClientBase
from registry.client.transport import OURS
from registry.wire.events import Event


@dataclass(frozen=True)
class EventsPage:
    """Events in id order, and the cursor to pass as ``after`` next time."""

    events: list[Event]
    next_after: int


class EventsMixin(ClientBase):
    """``GET /api/2.0/modelyard/events``."""

    def get_events(
        self,
        after: int | None = None,
        *,
        model: str | None = None,
        max_results: int = 100,
        wait_seconds: float = 0.0,
    ) -> EventsPage:
        """Events newer than ``after`` (of one model), waiting up to ``wait_seconds`` for one.

        With ``after`` None the page is empty and ``next_after`` is the newest id: follow from
        now. The call is made once (no retries): a follower decides how to back off.

        Raises:
            InvalidParameter: a bad cursor, ``max_results`` or ``wait_seconds`` (over 30).
            PermissionDenied: under auth, the caller cannot read ``model``.
            NotFound: the server has no event stream (an older Modelyard, or MLflow).
        """
        body = {
            "after": after,
            "model": model,
            "max_results": max_results,
            "wait_seconds": wait_seconds or None,
        }
        reply = self._call("GET", "events", body, prefix=OURS, retry=False)
        events = [Event.from_dict(item) for item in reply.get("events") or []]
        return EventsPage(events, int(reply.get("next_after") or 0))
