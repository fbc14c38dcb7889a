"""Fast JSON decoding and encoding (orjson when installed, the standard library otherwise)."""

from __future__ import annotations

import json
from typing import Any

import numpy as np

orjson: Any
try:
    import orjson
except ImportError:  # pragma: no cover - orjson is an optional speed-up
    orjson = None

JSONDecodeError: tuple[type[Exception], ...] = (ValueError, UnicodeDecodeError)


def loads(body: bytes) -> Any:
    """Decode a JSON document from bytes.

    Raises:
        ValueError: the body is not valid JSON (or not UTF-8).
    """
    if orjson is not None:
        return orjson.loads(body)
    return json.loads(body)


def _default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def dumps(value: Any) -> bytes:
    """Encode a value (numpy arrays and scalars included) as compact JSON bytes; NaN -> null."""
    if orjson is not None:
        try:
            encoded: bytes = orjson.dumps(
                value, default=_default, option=orjson.OPT_SERIALIZE_NUMPY
            )
        except TypeError:
            # orjson serializes only C-contiguous numeric arrays natively; the rest via lists.
            encoded = orjson.dumps(value, default=_default_lists)
        return encoded
    return json.dumps(value, default=_default, separators=(",", ":")).encode()


def _default_lists(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    return _default(value)
