"""The one retry policy: capped exponential backoff with jitter, honouring ``Retry-After``.

Built on tenacity. Every loop that tries again uses it: the HTTP client (429, 5xx and dropped
connections), background metric batches while the server is away, and a request the database
aborted as a deadlock victim. Each names only what it retries and how often; the waits are
the same everywhere:

* retry ``n`` waits ``first * 2**(n-1)`` seconds plus a random part of up to ``first``, at most
  ``cap`` (the jitter keeps clients that failed together from coming back together);
* when the failed attempt carries a server's ``Retry-After`` (seconds or an HTTP date), the
  wait is at least that, up to ``RETRY_AFTER_CAP`` (so a wrong header cannot stall a client
  for hours).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import tenacity

logger = logging.getLogger(__name__)

RETRY_AFTER_CAP = 60.0
"""The longest a server's ``Retry-After`` may make a client wait before one attempt."""

RetryAfter = Callable[[tenacity.RetryCallState], float]
"""Reads the seconds a failed attempt's answer asked the client to wait (0 when it did not)."""


class _Wait(tenacity.wait.wait_base):
    def __init__(self, first: float, cap: float, retry_after: RetryAfter | None) -> None:
        self._backoff = tenacity.wait_exponential_jitter(multiplier=first, max=cap, jitter=first)
        self._retry_after = retry_after

    def __call__(self, retry_state: tenacity.RetryCallState) -> float:
        wait = float(self._backoff(retry_state))
        if self._retry_after is not None:
            wait = max(wait, min(self._retry_after(retry_state), RETRY_AFTER_CAP))
        return wait


def policy(
    *,
    retry: tenacity.retry_base,
    attempts: int | None,
    first: float,
    cap: float,
    retry_after: RetryAfter | None = None,
    name: str = "",
    log_level: int = logging.INFO,
    **extra: Any,
) -> tenacity.Retrying:
    """A ``tenacity.Retrying`` with the project's waits.

    Args:
        retry: which outcomes are tried again (``tenacity.retry_if_exception(...)``, ...).
        attempts: attempts in all, the first included; None tries until it succeeds.
        first: the wait before the first retry, in seconds (it doubles each time, and up to
            as much again is added at random).
        cap: the longest backoff wait, in seconds.
        retry_after: reads a server's ``Retry-After`` from a failed attempt.
        name: what is retried, for the log line before each wait.
        log_level: that line's level: INFO where the caller reports the final outcome itself,
            WARNING where nobody else will tell the user (a background thread).
        extra: passed to ``tenacity.Retrying`` (``retry_error_callback``, ``sleep``).
    """
    stop = tenacity.stop_never if attempts is None else tenacity.stop_after_attempt(attempts)
    return tenacity.Retrying(
        retry=retry,
        stop=stop,
        wait=_Wait(first, cap, retry_after),
        reraise=True,
        before_sleep=_log(name, log_level),
        **extra,
    )


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float:
    """The seconds a ``Retry-After`` header asks for: a number of seconds or an HTTP date.

    0 when the header is absent or unreadable (then the backoff alone decides).
    """
    if not value:
        return 0.0
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return 0.0
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    return seconds if math.isfinite(seconds) and seconds > 0 else 0.0


def _log(name: str, level: int) -> Callable[[tenacity.RetryCallState], None]:
    def before_sleep(state: tenacity.RetryCallState) -> None:
        outcome = state.outcome
        reason: object = "no outcome"
        if outcome is not None:
            reason = outcome.exception() if outcome.failed else outcome.result()
        wait = state.upcoming_sleep
        logger.log(
            level,
            "%s: attempt %d failed (%s); retrying in %.2fs",
            name,
            state.attempt_number,
            reason,
            wait,
        )

    return before_sleep
