"""Reversible patches: wrap a method, remember the original, put it back on ``disable``."""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

logger = logging.getLogger(__name__)

Wrapper = Callable[..., Any]
_originals: dict[str, list[tuple[Any, str, Any]]] = {}
_inside = threading.local()


def patch(flavor: str, owner: Any, attribute: str, make: Callable[[Any], Wrapper]) -> None:
    """Replace ``owner.attribute`` with ``make(original)``; ``unpatch(flavor)`` restores it."""
    original = owner.__dict__[attribute] if isinstance(owner, type) else getattr(owner, attribute)
    if getattr(original, "__modelyard_original__", None) is not None:
        return
    wrapper = functools.wraps(original)(make(original))
    wrapper.__modelyard_original__ = original  # type: ignore[attr-defined]
    setattr(owner, attribute, wrapper)
    _originals.setdefault(flavor, []).append((owner, attribute, original))


def unpatch(flavor: str) -> None:
    """Restore every method ``flavor`` patched."""
    for owner, attribute, original in reversed(_originals.pop(flavor, [])):
        setattr(owner, attribute, original)


def is_patched(flavor: str) -> bool:
    """Whether ``flavor``'s patches are in place."""
    return bool(_originals.get(flavor))


@contextmanager
def outermost(flavor: str) -> Iterator[bool]:
    """True for the outermost patched call in this thread (inner fits are not logged)."""
    depth = getattr(_inside, flavor, 0)
    setattr(_inside, flavor, depth + 1)
    try:
        yield depth == 0
    finally:
        setattr(_inside, flavor, depth)


def safely(what: str, action: Callable[[], Any]) -> Any:
    """Run a logging step; a failure is logged as a warning and never breaks training."""
    try:
        return action()
    except Exception as err:
        logger.warning("autolog could not %s: %s", what, err)
        return None
