"""Permission levels (MLflow's names) and token scopes."""

from __future__ import annotations

from enum import IntEnum

from registry.errors import InvalidParameter
from registry.wire.auth import SCOPES as SCOPES


class Level(IntEnum):
    """What a user may do with an experiment or a registered model; higher includes lower."""

    NO_PERMISSIONS = 0
    READ = 1
    EDIT = 2
    MANAGE = 3


_SCOPE_CAP = {"read": Level.READ, "write": Level.MANAGE, "admin": Level.MANAGE}


def parse_level(name: str) -> Level:
    """The level named ``name`` (``READ``, ``EDIT``, ``MANAGE``, ``NO_PERMISSIONS``).

    Raises:
        InvalidParameter: not one of those names.
    """
    try:
        return Level[str(name).upper()]
    except KeyError:
        names = ", ".join(level.name for level in Level)
        raise InvalidParameter(f"Invalid permission {name!r}: use one of {names}") from None


def parse_scope(name: str) -> str:
    """``name`` if it is a token scope.

    Raises:
        InvalidParameter: not ``read``, ``write`` or ``admin``.
    """
    if name not in SCOPES:
        raise InvalidParameter(f"Invalid token scope {name!r}: use one of {', '.join(SCOPES)}")
    return name


def scope_cap(scope: str | None) -> Level:
    """The highest level a request authenticated with a token of ``scope`` may use."""
    return Level.MANAGE if scope is None else _SCOPE_CAP[scope]
