"""When a failed delivery is tried again: a fixed schedule of multiples of a base delay.

At the default base of 60 s the retries come 1 min, 5 min, 15 min, 1 h, 3 h, 6 h and 12 h after
each failure (8 attempts over about 22 hours); then the delivery is failed. The base
(``REGISTRY_WEBHOOK_RETRY_BASE_SECONDS``) is a setting so tests and impatient deployments can
shrink the whole schedule.
"""

from __future__ import annotations

MULTIPLES = (1, 5, 15, 60, 180, 360, 720)
MAX_ATTEMPTS = len(MULTIPLES) + 1


def retry_at(attempts_made: int, now_ms: int, base_seconds: float) -> int | None:
    """When to try again after ``attempts_made`` failed attempts; None when out of attempts."""
    if attempts_made >= MAX_ATTEMPTS:
        return None
    return now_ms + int(MULTIPLES[attempts_made - 1] * base_seconds * 1000)
