"""Opaque page tokens, in MLflow's shape: base64 of ``{"offset": n}``."""

from __future__ import annotations

import base64
import binascii
import json

from registry.errors import InvalidParameter


def encode_page_token(offset: int) -> str:
    """The token that resumes a listing at ``offset``."""
    return base64.b64encode(json.dumps({"offset": offset}).encode()).decode()


def decode_page_token(token: str | None) -> int:
    """The offset a token stands for; 0 for no token.

    Raises:
        InvalidParameter: the token is not one this server issued.
    """
    if not token:
        return 0
    try:
        payload = json.loads(base64.b64decode(token, validate=True))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise InvalidParameter("Invalid page token, could not base64-decode") from None
    offset = payload.get("offset") if isinstance(payload, dict) else None
    if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
        raise InvalidParameter("Invalid page token: no valid offset")
    return offset
