"""Case-exact string comparison and LIKE/ILIKE that behave the same on every engine.

The one place where the search code looks at the engine. ``LIKE`` is case-sensitive and
``ILIKE`` is not, with ``%`` and ``_`` as the only wildcards:

* SQLite's ``LIKE`` ignores ASCII case, so a case-sensitive match is a ``GLOB`` with the pattern
  translated (``%`` -> ``*``, ``_`` -> ``?``, GLOB's own metacharacters bracketed).
* MySQL/MariaDB compare with the column's collation, case-insensitive by default, so exact
  matches add a ``BINARY`` comparison (after the plain one, which can still use an index) and
  a case-sensitive pattern is ``LIKE BINARY``; a case-insensitive one lowers both sides.
* PostgreSQL has ``LIKE`` and ``ILIKE`` natively.

Strings sort by code point everywhere (``BINARY`` on MySQL, ``COLLATE "C"`` on PostgreSQL), so a
page boundary never depends on the server's locale.

Every pattern is bound as a parameter; the ``ESCAPE '!'`` clause is a constant.
"""

from __future__ import annotations

from collections.abc import Sequence
from operator import and_, or_
from typing import Any, NamedTuple

import peewee as pw

from registry.store import engine_name

_ESCAPE = "!"


class Pattern(NamedTuple):
    """Part of a LIKE pattern: literal text, or a user's pattern whose ``%``/``_`` are wildcards."""

    text: str
    wildcards: bool


def all_of(conditions: Sequence[Any]) -> Any:
    """``c1 AND c2 AND ...`` as a balanced tree, so thousands of terms stay shallow SQL."""
    return _balanced(and_, conditions)


def any_of(conditions: Sequence[Any]) -> Any:
    """``c1 OR c2 OR ...`` as a balanced tree (SQLite's parser overflows on deep nesting)."""
    return _balanced(or_, conditions)


def _balanced(operator: Any, conditions: Sequence[Any]) -> Any:
    if len(conditions) == 1:
        return conditions[0]
    middle = len(conditions) // 2
    return operator(
        _balanced(operator, conditions[:middle]), _balanced(operator, conditions[middle:])
    )


def equals(field: Any, value: str) -> pw.Expression:
    """``field = value``, case-exact on every engine."""
    if engine_name() == "mysql":
        return (field == value) & (field == _binary(value))  # type: ignore[no-any-return]
    return field == value  # type: ignore[no-any-return]


def in_values(field: Any, values: Sequence[str]) -> pw.Expression:
    """``field IN values``, case-exact on every engine."""
    if engine_name() == "mysql":
        exact = any_of([field == _binary(value) for value in values])
        return field.in_(list(values)) & exact  # type: ignore[no-any-return]
    return field.in_(list(values))  # type: ignore[no-any-return]


def sortable(field: Any) -> Any:
    """``field`` as an ``ORDER BY`` term that sorts strings by code point on every engine."""
    engine = engine_name()
    if engine == "mysql":
        return pw.NodeList((pw.SQL("BINARY"), field))
    if engine == "postgresql":
        return pw.NodeList((field, pw.SQL('COLLATE "C"')))
    return field


def like(field: Any, parts: Sequence[Pattern], *, case_sensitive: bool) -> pw.Expression:
    """``field`` matches the pattern built from ``parts`` (LIKE when case-sensitive, else ILIKE).

    peewee spells its ``LIKE`` operator per engine (``GLOB`` on SQLite, ``LIKE BINARY`` on
    MySQL) and its ``ILIKE`` as a plain ``LIKE`` where ``ILIKE`` is missing.
    """
    engine = engine_name()
    if case_sensitive:
        if engine == "sqlite":
            return pw.Expression(field, pw.OP.LIKE, "".join(_glob(part) for part in parts))
        return pw.Expression(field, pw.OP.LIKE, _escaped(parts))
    if engine == "postgresql":
        return pw.Expression(field, pw.OP.ILIKE, _escaped(parts))
    lowered = [Pattern(part.text.lower(), part.wildcards) for part in parts]
    return pw.Expression(pw.fn.LOWER(field), pw.OP.ILIKE, _escaped(lowered))


def _binary(value: str) -> pw.NodeList:
    return pw.NodeList((pw.SQL("BINARY"), pw.Value(value)))


def _escaped(parts: Sequence[Pattern]) -> pw.NodeList:
    pattern = "".join(_like(part) for part in parts)
    return pw.NodeList((pw.Value(pattern), pw.SQL(f"ESCAPE '{_ESCAPE}'")))


def _like(part: Pattern) -> str:
    escaped = part.text.replace(_ESCAPE, _ESCAPE * 2)
    if part.wildcards:
        return escaped
    return escaped.replace("%", _ESCAPE + "%").replace("_", _ESCAPE + "_")


def _glob(part: Pattern) -> str:
    out = []
    for char in part.text:
        if char in "*?[":
            out.append(f"[{char}]")
        elif part.wildcards and char == "%":
            out.append("*")
        elif part.wildcards and char == "_":
            out.append("?")
        else:
            out.append(char)
    return "".join(out)
