"""The tokenizer of filter strings and order-by items."""

from __future__ import annotations

import re
from dataclasses import dataclass

from registry.errors import InvalidParameter

WORD, QUOTED_KEY, STRING, NUMBER, OP, LPAREN, RPAREN, COMMA, END = (
    "word",
    "quoted key",
    "string",
    "number",
    "operator",
    "(",
    ")",
    ",",
    "end",
)

_PATTERNS = (
    (NUMBER, r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?(?![\w.])"),
    (WORD, r"[A-Za-z_][\w.\-/:]*"),
    (OP, r"!=|<>|<=|>=|==|=|<|>"),
    (LPAREN, r"\("),
    (RPAREN, r"\)"),
    (COMMA, r","),
)
_TOKEN_RE = re.compile("|".join(f"(?P<t{i}>{pattern})" for i, (_, pattern) in enumerate(_PATTERNS)))
_SPACE_RE = re.compile(r"\s+")


@dataclass(frozen=True)
class Token:
    """One token: its type, its text (unquoted for strings and quoted keys) and its offset."""

    type: str
    text: str
    position: int
    raw: str

    def keyword(self) -> str | None:
        """The upper-cased text when this is a bare word, else ``None``."""
        return self.text.upper() if self.type == WORD else None


def syntax_error(
    text: str, position: int, reason: str, token: str | None = None, subject: str = "filter"
) -> InvalidParameter:
    """The ``InvalidParameter`` for a problem at ``position``, quoting the token found there.

    The token defaults to the text from ``position`` up to the next space (at most 40 characters).
    """
    near = token
    if near is None:
        near = text[position:].split(None, 1)[0][:40] if text[position:].strip() else ""
    where = f"near {near!r}" if near else "at the end of the input"
    return InvalidParameter(
        f"Invalid {subject} at position {position} {where}: {reason}", position=position, token=near
    )


def tokenize(text: str) -> list[Token]:
    """Split ``text`` into tokens, ending with an ``END`` token.

    Raises:
        InvalidParameter: an unterminated quote or a character that starts no token.
    """
    tokens: list[Token] = []
    pos = 0
    while True:
        space = _SPACE_RE.match(text, pos)
        if space:
            pos = space.end()
        if pos >= len(text):
            tokens.append(Token(END, "", len(text), ""))
            return tokens
        char = text[pos]
        if char in "'\"`":
            end, value = _read_quoted(text, pos, char)
            kind = QUOTED_KEY if char == "`" else STRING
            if char == '"' and tokens and _glued_to_prefix(tokens[-1], pos):
                kind = QUOTED_KEY
            tokens.append(Token(kind, value, pos, text[pos:end]))
            pos = end
            continue
        match = _TOKEN_RE.match(text, pos)
        if match is None or match.lastgroup is None:
            raise syntax_error(text, pos, f"unexpected character {char!r}")
        kind = _PATTERNS[int(match.lastgroup[1:])][0]
        tokens.append(Token(kind, match.group(), pos, match.group()))
        pos = match.end()


def _glued_to_prefix(previous: Token, pos: int) -> bool:
    return (
        previous.type == WORD
        and previous.text.endswith(".")
        and previous.position + len(previous.raw) == pos
    )


def _read_quoted(text: str, start: int, quote: str) -> tuple[int, str]:
    parts: list[str] = []
    pos = start + 1
    while True:
        end = text.find(quote, pos)
        if end < 0:
            raise syntax_error(text, start, f"unterminated quote {quote}")
        parts.append(text[pos:end])
        if text.startswith(quote, end + 1):
            parts.append(quote)
            pos = end + 2
            continue
        return end + 1, "".join(parts)
