"""The per-request row cap shared by every protocol (``SERVING_MAX_REQUEST_ROWS``)."""

from __future__ import annotations

from registry.errors import BadRequest


def check_rows(rows: int, max_rows: int | None, *, counted_all: bool = True) -> None:
    """Refuse a request with more rows than ``max_rows`` (None or 0: no cap).

    ``counted_all`` is False when reading stopped just past the cap (CSV), so ``rows`` is only
    a lower bound and the message says "more than".

    Raises:
        BadRequest: the request holds too many rows; the message names the cap and the setting.
    """
    if max_rows and rows > max_rows:
        count = str(rows) if counted_all else f"more than {max_rows}"
        raise BadRequest(
            f"The request has {count} rows; the limit is {max_rows} rows per request"
            " (SERVING_MAX_REQUEST_ROWS). Split it into smaller requests."
        )
