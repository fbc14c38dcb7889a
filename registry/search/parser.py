"""The search language: filter strings and order-by items parsed to the tree in ``ast``.

Grammar (keywords case-insensitive, ``AND`` binds tighter than ``OR``)::

    filter     := or_expr END
    or_expr    := and_expr (OR and_expr)*
    and_expr   := primary (AND primary)*
    primary    := "(" or_expr ")" | comparison
    comparison := key ( ("=" | "!=" | "<>" | "<" | "<=" | ">" | ">=" | LIKE | ILIKE) value
                      | [NOT] IN "(" value ("," value)* ")"
                      | IS [NOT] NULL )
    order_item := key [ASC | DESC]

Pure: no database, no web. Every error is an ``InvalidParameter`` whose details carry the
``position`` and ``token`` it points at.
"""

from __future__ import annotations

import re
from typing import Any

from registry.errors import InvalidParameter
from registry.search import tokens as tk
from registry.search.ast import BoolOp, Comparison, Node, OrderKey, Scalar, Value
from registry.search.entities import ENTITIES, ID, NUMBER, OPERATORS, SPECS, VALUE_TYPES, EntitySpec
from registry.search.keys import Key, read_key, resolve_key
from registry.search.tokens import COMMA, END, LPAREN, OP, RPAREN, Token, syntax_error, tokenize

__all__ = ["parse_filter", "parse_logged_model_order_by", "parse_order_by"]

_OP_ALIASES = {"==": "=", "<>": "!="}
MAX_DEPTH = 16
"""Parentheses nested deeper than this are refused (SQL parsers have small stacks)."""
_INTEGER_RE = re.compile(r"[-+]?\d+")


def parse_filter(text: str | None, entity: str) -> Node | None:
    """Parse a filter string for ``entity``; ``None`` for an empty filter.

    Raises:
        InvalidParameter: the filter is malformed or names what ``entity`` cannot be searched by.
    """
    spec = _spec(entity)
    if text is None or not text.strip():
        return None
    return _Parser(text, spec).parse()


def parse_order_by(items: list[str] | None, entity: str) -> list[OrderKey]:
    """Parse order-by items such as ``metrics.rmse DESC`` for ``entity``.

    Raises:
        InvalidParameter: an item is malformed or not a key ``entity`` can be ordered by.
    """
    spec = _spec(entity)
    keys = []
    for item in items or []:
        if item and item.strip():
            try:
                keys.append(_parse_order_item(item, spec))
            except InvalidParameter as err:
                raise _as_ordering_error(err) from None
    return keys


def parse_logged_model_order_by(items: list[dict[str, Any]] | None) -> list[OrderKey]:
    """Parse logged-model ordering dicts ``{field_name, ascending, dataset_name, dataset_digest}``.

    Raises:
        InvalidParameter: a field name is missing or not one logged models can be ordered by.
    """
    spec = SPECS["logged_models"]
    keys = []
    for item in items or []:
        field_name = item.get("field_name") if isinstance(item, dict) else None
        if not isinstance(field_name, str) or not field_name.strip():
            raise InvalidParameter(
                "Invalid ordering key: each order_by item needs a field_name", position=0, token=""
            )
        try:
            key = _read_whole_key(field_name, spec)
        except InvalidParameter as err:
            raise _as_ordering_error(err) from None
        keys.append(
            OrderKey(
                key.kind,
                key.name,
                ascending=item.get("ascending", True) is not False,
                dataset_name=item.get("dataset_name") or None,
                dataset_digest=item.get("dataset_digest") or None,
            )
        )
    return keys


def _spec(entity: str) -> EntitySpec:
    spec = SPECS.get(entity)
    if spec is None:
        raise ValueError(f"unknown entity {entity!r}; expected one of {ENTITIES}")
    return spec


def _parse_order_item(item: str, spec: EntitySpec) -> OrderKey:
    tokens = tokenize(item)
    key, index = read_key(item, tokens, 0)
    key = resolve_key(item, key, spec, ordering=True)
    ascending = True
    direction = tokens[index].keyword()
    if direction in ("ASC", "DESC"):
        ascending = direction == "ASC"
        index += 1
    if tokens[index].type != END:
        raise syntax_error(item, tokens[index].position, "expected ASC, DESC or the end")
    return OrderKey(key.kind, key.name, ascending)


def _read_whole_key(text: str, spec: EntitySpec) -> Key:
    tokens = tokenize(text)
    key, index = read_key(text, tokens, 0)
    if tokens[index].type != END:
        raise syntax_error(text, tokens[index].position, "unexpected text after the key")
    return resolve_key(text, key, spec, ordering=True)


def _as_ordering_error(err: InvalidParameter) -> InvalidParameter:
    message = err.message.replace("Invalid filter at", "Invalid ordering key at", 1)
    return InvalidParameter(message, **err.details)


class _Parser:
    def __init__(self, text: str, spec: EntitySpec) -> None:
        self.text = text
        self.spec = spec
        self.tokens = tokenize(text)
        self.index = 0
        self.depth = 0

    def parse(self) -> Node:
        node = self._or_expr()
        token = self._peek()
        if token.type == RPAREN:
            raise self._error(token, "unbalanced ')'")
        if token.type != END:
            raise self._error(token, "expected AND, OR or the end of the filter")
        return node

    def _peek(self) -> Token:
        return self.tokens[self.index]

    def _next(self) -> Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def _error(self, token: Token, reason: str) -> InvalidParameter:
        return syntax_error(self.text, token.position, reason, token=token.raw or None)

    def _or_expr(self) -> Node:
        operands = [self._and_expr()]
        while self._peek().keyword() == "OR":
            self._next()
            operands.append(self._and_expr())
        return operands[0] if len(operands) == 1 else BoolOp("OR", tuple(operands))

    def _and_expr(self) -> Node:
        operands = [self._primary()]
        while self._peek().keyword() == "AND":
            self._next()
            operands.append(self._primary())
        return operands[0] if len(operands) == 1 else BoolOp("AND", tuple(operands))

    def _primary(self) -> Node:
        token = self._peek()
        if token.type == LPAREN:
            self._next()
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise self._error(token, f"parentheses nested deeper than {MAX_DEPTH} levels")
            node = self._or_expr()
            self.depth -= 1
            closing = self._next()
            if closing.type != RPAREN:
                raise self._error(
                    closing, f"expected ')' to close '(' at position {token.position}"
                )
            return node
        return self._comparison()

    def _comparison(self) -> Comparison:
        key, self.index = read_key(self.text, self.tokens, self.index)
        key = resolve_key(self.text, key, self.spec)
        value_type = (
            self.spec.attributes[key.name] if key.kind == "attribute" else VALUE_TYPES[key.kind]
        )
        op_token = self._peek()
        op = self._operator()
        if op not in OPERATORS[value_type]:
            allowed = list(OPERATORS[value_type])
            raise self._error(op_token, f"Invalid comparator '{op}' not one of '{allowed}'")
        value: Value = None
        if op in ("IN", "NOT IN"):
            value = self._tuple(key, value_type)
        elif op not in ("IS NULL", "IS NOT NULL"):
            value = self._scalar(key, value_type, like=op in ("LIKE", "ILIKE"))
        return Comparison(key.kind, key.name, op, value, key.position)

    def _operator(self) -> str:
        token = self._next()
        if token.type == OP:
            return _OP_ALIASES.get(token.text, token.text)
        word = token.keyword()
        if word in ("LIKE", "ILIKE", "IN"):
            return word
        if word == "NOT" and self._peek().keyword() == "IN":
            self._next()
            return "NOT IN"
        if word == "IS":
            negated = self._peek().keyword() == "NOT"
            if negated:
                self._next()
            if self._next().keyword() != "NULL":
                raise self._error(self.tokens[self.index - 1], "expected NULL after IS")
            return "IS NOT NULL" if negated else "IS NULL"
        raise self._error(token, "expected a comparison operator")

    def _tuple(self, key: Key, value_type: str) -> tuple[Scalar, ...]:
        opening = self._next()
        if opening.type != LPAREN:
            raise self._error(opening, "expected '(' to start a list of values")
        values = [self._scalar(key, value_type)]
        while self._peek().type == COMMA:
            self._next()
            values.append(self._scalar(key, value_type))
        closing = self._next()
        if closing.type != RPAREN:
            raise self._error(closing, "expected ',' or ')' in the list of values")
        return tuple(values)

    def _scalar(self, key: Key, value_type: str, *, like: bool = False) -> Scalar:
        token = self._next()
        if token.type not in (tk.STRING, tk.NUMBER):
            raise self._error(token, "expected a value")
        what = f"{key.kind} '{key.name}'"
        if value_type == NUMBER or (value_type == ID and token.type == tk.NUMBER):
            if token.type != tk.NUMBER:
                raise self._error(
                    token, f"Expected numeric value type for {what}. Found {token.raw}"
                )
            return _number(token.text)
        if value_type == ID:
            if not _INTEGER_RE.fullmatch(token.text.strip()):
                raise self._error(token, f"Expected an integer id for {what}. Found {token.raw}")
            return int(token.text)
        if token.type != tk.STRING:
            kind = "pattern" if like else "string value"
            raise self._error(token, f"Expected a quoted {kind} for {what}. Found {token.raw}")
        return token.text


def _number(text: str) -> int | float:
    return int(text) if _INTEGER_RE.fullmatch(text) else float(text)
