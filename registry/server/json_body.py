"""JSON by orjson where it gives what the stdlib gives: request bodies read, answers written.

Request bodies (``request.get_json``) are parsed by ``RegistryJSONProvider.loads``: orjson,
three times as fast as ``json.loads`` on a 1000-metric ``log-batch``, unless the body is one
orjson reads otherwise. Then (it refuses ``NaN``, ``Infinity``, numbers that overflow a double,
lone surrogates, a BOM or another encoding than UTF-8, and reads integers past 64 bits as
doubles) the stdlib parses it as before. Duplicate keys: the last wins in both.

Large JSON answers are encoded by orjson, byte for byte what ``jsonify`` sends.

``json.dumps`` takes about 30 ms for a ``runs/search`` page of 1000 runs; orjson about a tenth of
that. Their output is the same for compact, ASCII-only JSON except in a few places, where the
answer goes through ``jsonify`` instead:

* non-ASCII text and DEL (``json.dumps`` escapes them, orjson writes them as UTF-8);
* doubles between 1e-10 and 1e-4 (``1e-05`` against ``0.00001``, ``1.5e-09`` against
  ``1.5e-9``), found by a pattern that may also match text, which only costs the fast path;
* NaN and infinities (``NaN`` against ``null``): any ``null`` takes the slow path;
* whatever orjson refuses or encodes its own way (big ints, dates, dataclasses).
"""

from __future__ import annotations

import json
import re
from typing import Any

import orjson
from flask import Response, current_app, jsonify
from flask.json.provider import DefaultJSONProvider

_SMALL_EXPONENT = re.compile(rb"e-[1-9](?![0-9])")
_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
_DIGITS_AS_ZEROS = bytes.maketrans(b"123456789", b"000000000")
_LONG_DIGIT_RUN = b"0" * 19
"""An integer outside [-2**63, 2**64) has at least 19 digits in a row (orjson: a double)."""


class RegistryJSONProvider(DefaultJSONProvider):
    """Flask's JSON provider, with request bodies parsed by orjson where that is the same."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        """``json.loads(s)``: by orjson unless ``s`` is one orjson would read otherwise."""
        if not kwargs:
            raw = s.encode("utf-8", "surrogatepass") if isinstance(s, str) else s
            # A false alarm (19 digits in a string or a fraction) only costs the fast path.
            if _LONG_DIGIT_RUN not in raw.translate(_DIGITS_AS_ZEROS):
                try:
                    return orjson.loads(raw)
                except orjson.JSONDecodeError:
                    pass  # NaN, a lone surrogate, not UTF-8, ...: the stdlib decides
        return json.loads(s, **kwargs)


def _refuse(value: Any) -> Any:
    raise TypeError(f"{type(value).__name__} is left to jsonify")


_SAME_DUMPS = (DefaultJSONProvider, RegistryJSONProvider)
"""Providers whose ``dumps`` is Flask's own (a subclass may write other bytes)."""


def compact_json(answer: Any) -> bytes | None:
    """``json.dumps(answer, separators=(",", ":"))`` as bytes, by orjson.

    None where orjson would write other bytes (see the module docstring).
    """
    try:
        body = orjson.dumps(answer, default=_refuse, option=_OPTIONS)
    except TypeError:  # orjson.JSONEncodeError is one
        return None
    if not body.isascii() or b"null" in body or b"0.0000" in body or b"\x7f" in body:
        return None
    if b"e-" in body and _SMALL_EXPONENT.search(body):
        return None
    return body


def json_response(answer: Any) -> Response:
    """``jsonify(answer)``, encoded by orjson where that gives the same body."""
    provider = current_app.json
    compact = provider.compact  # type: ignore[attr-defined]
    if (
        isinstance(provider, DefaultJSONProvider)
        and type(provider) in _SAME_DUMPS
        and provider.ensure_ascii
        and not provider.sort_keys
        and (compact or (compact is None and not current_app.debug))
    ):
        body = compact_json(answer)
        if body is not None:
            return current_app.response_class(body + b"\n", mimetype=provider.mimetype)
    return jsonify(answer)
