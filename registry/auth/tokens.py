"""API tokens: ``myd_<lookup>_<secret>``, random, stored as a SHA-256 of the secret.

The secret has 256 random bits, so a fast hash is enough (no dictionary to attack); the lookup
part finds the row without comparing every hash.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

PREFIX = "myd_"


@dataclass(frozen=True)
class NewToken:
    """A token as shown once to its owner, and what the store keeps of it."""

    plaintext: str
    lookup: str
    secret_hash: str


def new_token() -> NewToken:
    """A fresh random token."""
    lookup = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    return NewToken(f"{PREFIX}{lookup}_{secret}", lookup, hash_secret(secret))


def hash_secret(secret: str) -> str:
    """The stored form of a token's secret."""
    return hashlib.sha256(secret.encode()).hexdigest()


def split_token(value: str) -> tuple[str, str] | None:
    """``(lookup, secret)`` of a token-shaped string, else None (a password, say)."""
    if not value.startswith(PREFIX):
        return None
    lookup, sep, secret = value[len(PREFIX) :].partition("_")
    if not sep or not lookup or not secret:
        return None
    return lookup, secret


def secret_matches(secret: str, stored_hash: str) -> bool:
    """Constant-time comparison of a presented secret with the stored hash."""
    return hmac.compare_digest(hash_secret(secret), stored_hash)
