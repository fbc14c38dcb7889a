"""The first admin: from ``MODELYARD_ADMIN_PASSWORD`` or a one-time bootstrap password.

There is no default password: a server with auth on and no admin refuses to start until one of
the two is used.
"""

from __future__ import annotations

import ipaddress
import secrets
from collections.abc import Mapping

from registry.auth.passwords import hash_password
from registry.errors import InvalidState
from registry.store import auth as store

DEFAULT_ADMIN = "admin"
ADMIN_USERNAME_VAR = "MODELYARD_ADMIN_USERNAME"
ADMIN_PASSWORD_VAR = "MODELYARD_ADMIN_PASSWORD"


def admin_username(environ: Mapping[str, str]) -> str:
    """The first admin's name: ``MODELYARD_ADMIN_USERNAME`` or ``admin``."""
    return environ.get(ADMIN_USERNAME_VAR) or DEFAULT_ADMIN


def ensure_admin(environ: Mapping[str, str]) -> str | None:
    """Create the first admin from the environment when there is none; its name, else None.

    Raises:
        InvalidState: no admin exists and ``MODELYARD_ADMIN_PASSWORD`` is not set.
    """
    if store.any_admin():
        return None
    password = environ.get(ADMIN_PASSWORD_VAR)
    if not password:
        raise InvalidState(
            f"Auth is on and there is no admin yet: set {ADMIN_PASSWORD_VAR} (and optionally "
            f"{ADMIN_USERNAME_VAR}), or run `modelyard auth bootstrap` once."
        )
    name = admin_username(environ)
    _create_or_promote(name, password)
    return name


def bootstrap(username: str) -> str:
    """Create the first admin with a random password, returned once.

    Raises:
        InvalidState: an admin exists already.
    """
    if store.any_admin():
        raise InvalidState("An admin exists already: bootstrap runs only once.")
    password = secrets.token_urlsafe(18)
    _create_or_promote(username, password)
    return password


def _create_or_promote(username: str, password: str) -> None:
    if store.find_user(username) is None:
        store.create_user(username, hash_password(password), is_admin=True)
    else:
        store.update_user(username, password_hash=hash_password(password), is_admin=True)


def is_loopback(host: str) -> bool:
    """True for addresses only this machine can reach (127.0.0.0/8, ::1, localhost)."""
    if host.strip("[]").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def default_allowed_hosts(host: str) -> str:
    """The Host names a server bound to ``host`` answers by default."""
    # werkzeug's trusted-host check cannot match IPv6 literals; see docs/security.md.
    names = ["localhost", "127.0.0.1"]
    bound = host.strip("[]")
    if bound and bound not in ("0.0.0.0", "::") and bound not in names:
        names.insert(0, bound)
    return ",".join(names)
