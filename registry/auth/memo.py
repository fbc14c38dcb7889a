"""What a server remembers between requests, so most requests cost no auth query.

One ``AuthMemo`` per app (two apps in one process never share one):

- ``principals``: an ``Authorization`` header (by its SHA-256) to the principal it named.
- ``grants``: ``(user_id, kind, object_id)`` to the level granted (None: nothing granted).
- ``run_experiments``: a run id to its experiment id (a run never changes experiment).
- ``exceptions``: a user's exceptions to the default level, listed for searches.

A change made through this worker (``forget()``, called after every successful auth write)
applies at once here, and in the other workers within ``SECONDS``.
"""

from __future__ import annotations

import hashlib

from registry.auth.identity import Principal
from registry.auth.ttl_cache import MISSING, TtlCache

SECONDS = 5.0

__all__ = ["MISSING", "SECONDS", "AuthMemo", "header_key"]


class AuthMemo:
    """The caches of one app."""

    def __init__(self) -> None:
        self.principals: TtlCache[bytes, Principal] = TtlCache(seconds=SECONDS, size=4096)
        self.grants: TtlCache[tuple[int, str, str], str | None] = TtlCache(
            seconds=SECONDS, size=65536
        )
        self.run_experiments: TtlCache[str, int] = TtlCache(seconds=3600.0, size=65536)
        self.exceptions: TtlCache[tuple[int, bool], tuple[tuple[int, ...] | None, ...]] = TtlCache(
            seconds=SECONDS, size=4096
        )

    def forget(self) -> None:
        """Drop remembered principals and grants (after a user, token or permission changed)."""
        self.principals.clear()
        self.grants.clear()
        self.exceptions.clear()


def header_key(authorization: str) -> bytes:
    """The key of an ``Authorization`` header (its hash: no secret is kept in memory)."""
    return hashlib.sha256(authorization.encode()).digest()
