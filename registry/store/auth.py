"""Queries of users and tokens (grants live in ``permissions``, the log in ``audit``)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import peewee

from registry.errors import AlreadyExists, InvalidParameter, NotFound
from registry.store import write_transaction
from registry.store.auth_models import (
    ApiToken,
    ExperimentPermission,
    RegisteredModelPermission,
    User,
)


def now_ms() -> int:
    """Milliseconds since the epoch."""
    return int(time.time() * 1000)


# --- users ------------------------------------------------------------------------------------


def create_user(
    username: str,
    password_hash: str | None,
    *,
    is_admin: bool = False,
    is_service_account: bool = False,
) -> User:
    """Add a user.

    Raises:
        InvalidParameter: the username is empty or too long.
        AlreadyExists: a user with that name exists.
    """
    if not username or len(username) > 256:
        raise InvalidParameter("A username must have 1 to 256 characters.")
    try:
        with write_transaction():
            user: User = User.create(
                username=username,
                password_hash=password_hash,
                is_admin=is_admin,
                is_service_account=is_service_account,
                created_at=now_ms(),
            )
    except peewee.IntegrityError:
        raise AlreadyExists(f"User {username!r} already exists.") from None
    return user


def find_user(username: str) -> User | None:
    """The user named ``username``, or None."""
    found: User | None = User.get_or_none(User.username == username)
    return found


def get_user(username: str) -> User:
    """The user named ``username``.

    Raises:
        NotFound: no such user.
    """
    user = find_user(username)
    if user is None:
        raise NotFound(f"User with username={username!r} not found")
    return user


def find_user_by_id(user_id: int) -> User | None:
    """The user with ``user_id``, or None."""
    found: User | None = User.get_or_none(User.id == user_id)
    return found


def list_users() -> list[User]:
    """Every user, by name."""
    return list(User.select().order_by(User.username))


def any_admin() -> bool:
    """True once some admin exists."""
    return bool(User.select().where(User.is_admin == True).exists())  # noqa: E712


def update_user(username: str, **fields: Any) -> None:
    """Set ``fields`` (``password_hash``, ``is_admin``) on a user.

    Raises:
        NotFound: no such user.
    """
    with write_transaction():
        updated = User.update(**fields).where(User.username == username).execute()
    if not updated:
        raise NotFound(f"User with username={username!r} not found")


def delete_user(username: str) -> None:
    """Remove a user with their tokens and permissions.

    Raises:
        NotFound: no such user.
    """
    user = get_user(username)
    with write_transaction():
        ApiToken.delete().where(ApiToken.user == user.id).execute()
        ExperimentPermission.delete().where(ExperimentPermission.user == user.id).execute()
        RegisteredModelPermission.delete().where(
            RegisteredModelPermission.user == user.id
        ).execute()
        user.delete_instance()


# --- tokens -----------------------------------------------------------------------------------


def create_token(
    user: User, name: str, scope: str, lookup: str, secret_hash: str, expires_at: int | None
) -> ApiToken:
    """Store a token's hash for ``user``."""
    with write_transaction():
        token: ApiToken = ApiToken.create(
            user=user,
            name=name,
            lookup=lookup,
            secret_hash=secret_hash,
            scope=scope,
            created_at=now_ms(),
            expires_at=expires_at,
        )
    return token


@dataclass(frozen=True)
class LiveToken:
    """What authenticating with a token needs: its hash and scope, and its user."""

    secret_hash: str
    scope: str
    user_id: int
    username: str
    is_admin: bool


def find_live_token(lookup: str) -> LiveToken | None:
    """The unrevoked, unexpired token with ``lookup`` and its user, or None."""
    row: Any = (
        ApiToken.select(
            ApiToken.secret_hash,
            ApiToken.scope,
            ApiToken.expires_at,
            User.id,
            User.username,
            User.is_admin,
        )
        .join(User)
        .where(ApiToken.lookup == lookup, ApiToken.revoked_at.is_null())
        .tuples()
        .get_or_none()
    )
    if row is None:
        return None
    expires_at = row[2]
    if expires_at is not None and expires_at <= now_ms():
        return None
    return LiveToken(str(row[0]), str(row[1]), int(row[3]), str(row[4]), bool(row[5]))


def list_tokens(user_id: int | None) -> list[ApiToken]:
    """The tokens of one user (or everyone's for None), newest first."""
    query = ApiToken.select(ApiToken, User).join(User).order_by(ApiToken.id.desc())
    if user_id is not None:
        query = query.where(ApiToken.user == user_id)
    return list(query)


def revoke_token(token_id: int, user_id: int | None) -> None:
    """Revoke a token (only one of ``user_id``'s unless None).

    Raises:
        NotFound: no such live token.
    """
    query = ApiToken.update(revoked_at=now_ms()).where(
        ApiToken.id == token_id, ApiToken.revoked_at.is_null()
    )
    if user_id is not None:
        query = query.where(ApiToken.user == user_id)
    with write_transaction():
        if not query.execute():
            raise NotFound(f"No live token with id {token_id}")
