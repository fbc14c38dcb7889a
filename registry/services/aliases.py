"""Setting, moving and deleting aliases, each change recorded in the history."""

from __future__ import annotations

import re

from registry.errors import InvalidParameter
from registry.store import write_transaction
from registry.store.aliases import (
    aliases_of_version,
    find_alias,
    put_alias,
    remove_alias,
    version_by_alias,
)
from registry.store.model_versions import version_of
from registry.store.registered_models import get_registered_model, lock_registered_model, now_ms
from registry.store.rows import RegisteredModel
from registry.store.transitions import ALIAS, record_transition
from registry.store.version_rows import VersionRow

MAX_ALIAS_LENGTH = 256
_ALIAS = re.compile(r"[\w\-]+")
_RESERVED = re.compile(r"latest|v\d+", re.IGNORECASE)


def validate_alias(alias: str) -> None:
    """Check an alias name.

    Raises:
        InvalidParameter: empty, too long, not letters/digits/_/-, or reserved
            (``latest``, ``v<digits>``).
    """
    if not alias:
        raise InvalidParameter("Registered model alias name must not be empty.")
    if len(alias) > MAX_ALIAS_LENGTH:
        raise InvalidParameter(
            f"Registered model alias name is longer than {MAX_ALIAS_LENGTH} characters."
        )
    if not _ALIAS.fullmatch(alias):
        raise InvalidParameter(
            f"Invalid alias name {alias!r}: use letters, digits, '_' and '-' only."
        )
    if _RESERVED.fullmatch(alias):
        raise InvalidParameter(
            f"'{alias}' alias name (case insensitive) is reserved: 'latest' and 'v<number>' "
            "are kept for version references."
        )


def set_alias(name: str, alias: str, version: int, *, user_id: str = "", comment: str = "") -> None:
    """Point ``alias`` at ``version``, moving it if it exists.

    Raises:
        InvalidParameter: the alias name is not allowed.
        NotFound: no such model or version.
    """
    validate_alias(alias)
    with write_transaction():
        model = lock_registered_model(name)
        version_of(model, version)
        move_alias(model, alias, version, user_id=user_id, comment=comment)


def move_alias(
    model: RegisteredModel,
    alias: str,
    version: int | None,
    *,
    user_id: str,
    comment: str,
    rollback_of: int | None = None,
) -> None:
    """Set (or, for None, delete) an alias inside the caller's transaction, and record it."""
    before = remove_alias(model, alias) if version is None else put_alias(model, alias, version)
    record_transition(
        model,
        kind=ALIAS,
        alias_name=alias,
        version=version if version is not None else before,
        from_value="" if before is None else str(before),
        to_value="" if version is None else str(version),
        user_id=user_id,
        timestamp=now_ms(),
        comment=comment,
        rollback_of=rollback_of,
    )


def delete_alias(name: str, alias: str, *, user_id: str = "", comment: str = "") -> None:
    """Remove an alias (no change when the model has no such alias).

    Raises:
        NotFound: no model has that name.
    """
    with write_transaction():
        model = lock_registered_model(name)
        if find_alias(model, alias) is not None:
            move_alias(model, alias, None, user_id=user_id, comment=comment)


def resolve_alias(name: str, alias: str) -> tuple[VersionRow, list[str]]:
    """The version an alias points at, with every alias of that version.

    Raises:
        NotFound: no model has that name.
        InvalidParameter: the model has no such alias (MLflow answers 400 here).
    """
    found = version_by_alias(name, alias)
    if found is None:
        get_registered_model(name)
        raise InvalidParameter(f"Registered model alias {alias} not found.")
    return found, aliases_of_version(found.registered_model_id, found.version)
