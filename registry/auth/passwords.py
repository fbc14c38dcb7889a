"""Password hashing with argon2id (argon2-cffi's defaults), and a cache of recent checks.

Verifying an argon2 hash costs tens of milliseconds by design; the official client sends the
password with every request. A successful check is remembered for a short while, keyed by a
SHA-256 of the stored hash and the password, so a changed password never matches an old entry.
"""

from __future__ import annotations

import hashlib

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from registry.auth.ttl_cache import TtlCache
from registry.errors import InvalidParameter

MIN_PASSWORD_LENGTH = 8

_hasher = PasswordHasher()
_recent: TtlCache[bytes, bool] = TtlCache(seconds=60.0, size=1024)


def hash_password(password: str) -> str:
    """The argon2id hash of ``password``.

    Raises:
        InvalidParameter: the password is shorter than ``MIN_PASSWORD_LENGTH``.
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidParameter(f"A password must have at least {MIN_PASSWORD_LENGTH} characters.")
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """True when ``password`` matches ``stored_hash`` (never for an account with no password)."""
    if not stored_hash:
        return False
    key = hashlib.sha256(f"{stored_hash}\0{password}".encode()).digest()
    if _recent.get(key) is True:
        return True
    try:
        _hasher.verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
    _recent.put(key, True)
    return True
