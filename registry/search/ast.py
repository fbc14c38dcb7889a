"""The syntax tree of a search filter and of an order-by clause.

A filter parses to a ``Node``: a ``Comparison`` or a ``BoolOp`` over nodes. Keys are already
resolved: ``kind`` says where the value lives and ``key`` is the canonical name (``run_name``
for ``attributes.`Run Name```, ``start_time`` for ``created``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, TypeAlias

Kind: TypeAlias = Literal["attribute", "metric", "param", "tag", "dataset"]
Scalar: TypeAlias = str | int | float
Value: TypeAlias = Scalar | tuple[Scalar, ...] | None

COMPARATORS = ("=", "!=", "<", "<=", ">", ">=")
STRING_OPERATORS = ("=", "!=", "LIKE", "ILIKE")
SET_OPERATORS = ("IN", "NOT IN")
NULL_OPERATORS = ("IS NULL", "IS NOT NULL")


@dataclass(frozen=True)
class Comparison:
    """One ``<key> <op> <value>`` clause.

    ``op`` is one of ``= != < <= > >= LIKE ILIKE IN NOT IN IS NULL IS NOT NULL``; ``value`` is a
    string or number, a tuple for ``IN``/``NOT IN`` and ``None`` for the null tests.
    ``position`` is the character offset of the key in the filter string.
    """

    kind: Kind
    key: str
    op: str
    value: Value
    position: int = 0


@dataclass(frozen=True)
class BoolOp:
    """``AND`` or ``OR`` over two or more nodes."""

    op: Literal["AND", "OR"]
    operands: tuple[Node, ...]


Node: TypeAlias = Comparison | BoolOp


@dataclass(frozen=True)
class OrderKey:
    """One ordering item; the dataset fields narrow a logged-model metric to one dataset."""

    kind: Kind
    key: str
    ascending: bool = True
    dataset_name: str | None = None
    dataset_digest: str | None = None
