"""Who sent a request: Basic (password or token) or Bearer (token) credentials."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from registry.auth.levels import Level, scope_cap
from registry.auth.passwords import verify_password
from registry.auth.tokens import secret_matches, split_token
from registry.errors import Unauthenticated
from registry.store import auth as store
from registry.store.auth_models import User


@dataclass(frozen=True)
class Principal:
    """An authenticated user, and the scope of the token used (None for a password)."""

    user_id: int
    username: str
    is_admin: bool
    scope: str | None = None

    @property
    def cap(self) -> Level:
        """The highest level this request may use on any object."""
        return scope_cap(self.scope)

    @property
    def acts_as_admin(self) -> bool:
        """The admin endpoints are open: an admin user with a password or an ``admin`` token.

        Any token of an admin reaches every experiment and model, within its scope.
        """
        return self.is_admin and self.scope in (None, "admin")


def authenticate(authorization: str | None) -> Principal | None:
    """The principal named by an ``Authorization`` header; None when the header is absent.

    Raises:
        Unauthenticated: the header is malformed or its credentials are wrong.
    """
    if not authorization:
        return None
    kind, _, value = authorization.strip().partition(" ")
    value = value.strip()
    if kind.lower() == "bearer" and value:
        return token_principal(value, None)
    if kind.lower() == "basic" and value:
        username, password = _basic(value)
        if split_token(password) is not None:
            return token_principal(password, username)
        return password_principal(username, password)
    raise Unauthenticated("Unsupported Authorization header: use Basic or Bearer.")


def password_principal(username: str, password: str) -> Principal:
    """The user whose name and password these are.

    Raises:
        Unauthenticated: unknown user or wrong password.
    """
    user = store.find_user(username)
    if user is None or not verify_password(user.password_hash, password):
        raise Unauthenticated("Invalid username or password.")
    return _principal(user, None)


def token_principal(plaintext: str, username: str | None) -> Principal:
    """The owner of a live token (who must be ``username`` when one is given).

    Raises:
        Unauthenticated: not a token, unknown, revoked, expired or someone else's.
    """
    parts = split_token(plaintext)
    token = store.find_live_token(parts[0]) if parts else None
    if parts is None or token is None or not secret_matches(parts[1], token.secret_hash):
        raise Unauthenticated("Invalid, expired or revoked token.")
    if username is not None and username != token.username:
        raise Unauthenticated("Invalid, expired or revoked token.")
    return Principal(token.user_id, token.username, token.is_admin, token.scope)


def _principal(user: User, scope: str | None) -> Principal:
    return Principal(int(user.id), str(user.username), bool(user.is_admin), scope)


def _basic(value: str) -> tuple[str, str]:
    try:
        decoded = base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise Unauthenticated("Malformed Basic credentials.") from None
    username, sep, password = decoded.partition(":")
    if not sep:
        raise Unauthenticated("Malformed Basic credentials.")
    return username, password
