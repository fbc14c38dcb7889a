"""HTTP content codings: ``Content-Encoding`` of request bodies, ``Accept-Encoding`` of responses.

Both protocols accept gzip and deflate bodies (tritonclient sends either) and compress a
response when the client asks for it, the way Triton and most proxies do.
"""

from __future__ import annotations

import zlib

from registry.errors import BadRequest, PayloadTooLarge, UnsupportedMediaType

# zlib's wbits: 16 + 15 reads and writes a gzip wrapper, 15 a zlib ("deflate" in HTTP) one.
_WBITS = {"gzip": 31, "x-gzip": 31, "deflate": 15}
MIN_COMPRESSED_BYTES = 500
"""Smaller responses are sent as they are: compressing them costs more than it saves."""


def decode_body(body: bytes, content_encoding: str | None, limit: int | None) -> bytes:
    """Undo a request's ``Content-Encoding`` (gzip or deflate), decompressing at most ``limit``.

    Raises:
        UnsupportedMediaType: the coding is neither gzip, deflate nor identity.
        PayloadTooLarge: the decompressed body is over ``limit`` bytes.
        BadRequest: the body is not valid data of its coding.
    """
    coding = (content_encoding or "").strip().lower()
    if coding in ("", "identity"):
        return body
    wbits = _WBITS.get(coding)
    if wbits is None:
        raise UnsupportedMediaType(
            f"Content-Encoding '{content_encoding}' is not supported; send gzip, deflate or "
            "an uncompressed body."
        )
    inflater = zlib.decompressobj(wbits)
    try:
        data = inflater.decompress(body, limit + 1 if limit else 0)
    except zlib.error as err:
        raise BadRequest(f"The request body is not valid {coding} data: {err}") from None
    if limit and len(data) > limit:
        raise PayloadTooLarge(
            f"The decompressed request body is over the limit of {limit} bytes "
            "(SERVING_MAX_REQUEST_BYTES)."
        )
    if not inflater.eof:
        raise BadRequest(f"The request body is truncated {coding} data.")
    return data


def response_coding(accept_encoding: str | None) -> str | None:
    """The coding to compress a response with: gzip or deflate when accepted, else None.

    ``q=0`` refuses a coding, as RFC 9110 says; gzip wins when both are accepted.
    """
    if not accept_encoding:
        return None
    accepted = set()
    for item in accept_encoding.split(","):
        coding, _, weight = item.partition(";")
        quality = weight.strip().removeprefix("q=").strip()
        if quality and _is_zero(quality):
            continue
        accepted.add(coding.strip().lower())
    for coding in ("gzip", "deflate"):
        if coding in accepted:
            return coding
    return None


def _is_zero(quality: str) -> bool:
    try:
        return float(quality) == 0
    except ValueError:
        return False


def encode_body(body: bytes, coding: str) -> bytes:
    """Compress a response body with ``coding`` (gzip or deflate)."""
    compressor = zlib.compressobj(6, zlib.DEFLATED, _WBITS[coding])
    return compressor.compress(body) + compressor.flush()
