"""Reading an identifier (``metrics.rmse``, ``tags.`a b```, ``run name``) and resolving it."""

from __future__ import annotations

from dataclasses import dataclass

from registry.errors import InvalidParameter
from registry.search.ast import Kind
from registry.search.entities import PREFIXES, EntitySpec
from registry.search.tokens import QUOTED_KEY, WORD, Token, syntax_error

KEYWORDS = frozenset({"AND", "OR", "NOT", "IN", "IS", "NULL", "LIKE", "ILIKE", "ASC", "DESC"})
DATASET_KEYS = ("name", "digest", "context")


@dataclass(frozen=True)
class Key:
    """A key as written: its kind, its name and the offset where it starts."""

    kind: Kind
    name: str
    position: int
    raw: str


def read_key(text: str, tokens: list[Token], index: int) -> tuple[Key, int]:
    """Read the key starting at ``tokens[index]``; return it and the index after it.

    Raises:
        InvalidParameter: no key starts there, or its prefix is unknown.
    """
    token = tokens[index]
    if token.type == QUOTED_KEY:
        return Key("attribute", token.text, token.position, token.raw), index + 1
    if token.type != WORD or token.text.upper() in KEYWORDS:
        raise syntax_error(text, token.position, "expected a key such as metrics.rmse")
    prefix, dot, rest = token.text.partition(".")
    if not dot:
        follower = tokens[index + 1]
        if (
            token.text.lower() == "run"
            and follower.type == WORD
            and follower.text.lower() == "name"
        ):
            raw = text[token.position : follower.position + len(follower.raw)]
            return Key("attribute", "run name", token.position, raw), index + 2
        return Key("attribute", token.text, token.position, token.raw), index + 1
    kind = PREFIXES.get(prefix.lower())
    if kind is None:
        valid = ", ".join(sorted(PREFIXES))
        raise syntax_error(
            text,
            token.position,
            f"Invalid entity type '{prefix}'. Valid values are {valid}",
        )
    if rest:
        return Key(kind, rest, token.position, token.raw), index + 1
    quoted = tokens[index + 1]
    if quoted.type != QUOTED_KEY:
        raise syntax_error(text, quoted.position, f"expected a key after '{token.text}'")
    return Key(kind, quoted.text, token.position, token.raw + quoted.raw), index + 2


def resolve_key(text: str, key: Key, spec: EntitySpec, *, ordering: bool = False) -> Key:
    """Check ``key`` against what ``spec`` allows and return it with its canonical name.

    Raises:
        InvalidParameter: the entity has no such attribute, prefix or dataset field.
    """
    if key.kind == "attribute":
        name = spec.canonical(key.name)
        valid: tuple[str, ...] = spec.order_attributes if ordering else tuple(spec.attributes)
        if name not in valid:
            keys = "{" + ", ".join(repr(k) for k in sorted(valid)) + "}"
            reason = f"Invalid attribute key '{key.name}' specified. Valid keys are '{keys}'"
            raise _key_error(text, key, reason)
        return Key("attribute", name, key.position, key.raw)
    kinds = spec.order_kinds if ordering else spec.kinds
    if key.kind not in kinds:
        raise _key_error(text, key, f"Invalid key '{key.raw}': {spec.name} have no {key.kind}s")
    if key.kind == "dataset" and key.name not in DATASET_KEYS:
        valid_keys = ", ".join(repr(k) for k in DATASET_KEYS)
        reason = f"Invalid dataset key '{key.name}' specified. Valid keys are {valid_keys}"
        raise _key_error(text, key, reason)
    return key


def _key_error(text: str, key: Key, reason: str) -> InvalidParameter:
    return syntax_error(text, key.position, reason, token=key.raw)
