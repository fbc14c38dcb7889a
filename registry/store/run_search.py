"""``runs/search``: one page of runs, loaded without N+1 queries.

The REST search, the GraphQL field that mirrors it and the web UI's runs table and chart grid
all page through ``page_of_runs``. Where the order allows (newest or oldest first, or one
metric, param or tag key), the search is read in index-ordered segments (``filters.run_pages``)
and the page token is a keyset cursor: the next page starts after the last row's order values,
so a deep page costs what the first one does. Other orders are one compiled query
(``filters.search_runs_query``) paged by offset. MLflow's own ``{"offset": n}`` tokens are
accepted either way.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from typing import Any

from registry.errors import InvalidParameter
from registry.search.paging import decode_page_token, encode_page_token
from registry.search.parser import parse_filter, parse_order_by
from registry.store.experiments import parse_experiment_id
from registry.store.filters import run_stages, search_runs_query
from registry.store.filters.run_pages import (
    Cursor,
    Narrow,
    Segment,
    check_cursor,
    cursor_of,
    fetch_after,
    fetch_offset,
    plain_rows,
    plan,
)
from registry.store.models import Run
from registry.store.permissions import visible_experiments
from registry.store.planner_stats import analyze_new_tables
from registry.store.runs import RunRecord, load_records

MAX_RESULTS = 50000
VIEW_TYPES = ("ACTIVE_ONLY", "DELETED_ONLY", "ALL")


def search_runs(
    experiment_ids: list[str],
    filter_string: str | None = None,
    view_type: str = "ACTIVE_ONLY",
    max_results: int = 1000,
    order_by: list[str] | None = None,
    page_token: str | None = None,
) -> tuple[list[RunRecord], str | None]:
    """One page of matching runs and the next page's token (None on the last page).

    Raises:
        InvalidParameter: a bad filter, order_by, view type, experiment id, max_results or token.
    """
    rows, token = _page(
        experiment_ids, filter_string, view_type, max_results, order_by, page_token, plain=False
    )
    return load_records(rows), token


def search_run_rows(
    experiment_ids: list[str],
    filter_string: str | None = None,
    view_type: str = "ACTIVE_ONLY",
    max_results: int = 1000,
    order_by: list[str] | None = None,
    page_token: str | None = None,
) -> tuple[list[Any], str | None]:
    """``search_runs``'s page as the runs' columns alone (``api_reads.runs_json`` loads the rest).

    Each row is a named tuple with a ``Run``'s column attributes (``run_uuid``,
    ``experiment_id``, ``name``, ``start_time``, ...), not a model: what a JSON answer reads.

    Raises:
        InvalidParameter: a bad filter, order_by, view type, experiment id, max_results or token.
    """
    return _page(
        experiment_ids, filter_string, view_type, max_results, order_by, page_token, plain=True
    )


def _page(
    experiment_ids: list[str],
    filter_string: str | None,
    view_type: str,
    max_results: int,
    order_by: list[str] | None,
    page_token: str | None,
    *,
    plain: bool,
) -> tuple[list[Any], str | None]:
    if not 1 <= max_results <= MAX_RESULTS:
        raise InvalidParameter(
            f"Invalid value {max_results} for parameter 'max_results' supplied. It must be at"
            f" most {MAX_RESULTS}, and at least 1."
        )
    if view_type not in VIEW_TYPES:
        raise InvalidParameter(
            f"Invalid view type {view_type!r}: use one of {', '.join(VIEW_TYPES)}"
        )
    ids = [parse_experiment_id(value) for value in experiment_ids]

    def narrow(query: Any) -> Any:
        return query.where(visible_experiments(Run.experiment))

    segments = _segments(ids, filter_string, order_by, view_type, narrow)
    signature = _signature(ids, filter_string, order_by, view_type)
    position = _decode(page_token, signature)
    limit = max_results + 1
    rows: list[Any]
    if segments is None or isinstance(position, int):
        offset = position if isinstance(position, int) else 0
        if segments is None:
            query = narrow(search_runs_query(ids, filter_string, order_by, view_type))
            query = query.offset(offset).limit(limit)
            rows = plain_rows(query) if plain else list(query)
        else:
            rows = fetch_offset(segments, offset, limit, plain=plain)
        more = len(rows) > max_results
        if segments is None or not more:
            token = encode_page_token(offset + max_results) if more else None
            return rows[:max_results], token
    else:
        if not check_cursor(segments, position):
            raise InvalidParameter("Invalid page token: it does not fit this search")
        rows = fetch_after(segments, position, limit, plain=plain)
    page = rows[:max_results]
    token = None
    if len(rows) > max_results:
        token = _encode(cursor_of(segments, page[-1]), signature)
    return page, token


def page_of_runs(
    experiment_ids: list[int],
    filter_string: str | None,
    order_by: list[str] | None,
    view_type: str,
    *,
    offset: int,
    limit: int,
    narrow: Narrow | None = None,
) -> list[Run]:
    """Up to ``limit`` matching runs from ``offset``, in the order ``order_by`` asks for.

    ``narrow`` adds conditions (e.g. the user's visible experiments) to every query.

    Raises:
        InvalidParameter: a bad filter, order-by item or view type.
    """
    keep: Narrow = narrow or (lambda query: query)
    segments = _segments(experiment_ids, filter_string, order_by, view_type, keep)
    if segments is None:
        query = search_runs_query(experiment_ids, filter_string, order_by, view_type)
        return list(keep(query).offset(offset).limit(limit))
    return fetch_offset(segments, offset, limit)


def _segments(
    experiment_ids: list[int],
    filter_string: str | None,
    order_by: list[str] | None,
    view_type: str,
    narrow: Narrow,
) -> list[Segment] | None:
    keys = parse_order_by(order_by, "runs")
    node = parse_filter(filter_string, "runs")
    analyze_new_tables()
    return plan(experiment_ids, node, keys, run_stages(view_type), narrow)


def _signature(
    experiment_ids: list[int], filter_string: str | None, order_by: list[str] | None, view: str
) -> str:
    """A short digest of the search a keyset token belongs to."""
    text = json.dumps([sorted(experiment_ids), filter_string or "", order_by or [], view])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _encode(cursor: Cursor, signature: str) -> str:
    payload = {"after": [cursor.segment, *cursor.values], "search": signature}
    return base64.b64encode(json.dumps(payload).encode()).decode()


def _decode(token: str | None, signature: str) -> int | Cursor:
    """An offset (MLflow's tokens, or none) or the cursor of one of our keyset tokens.

    Raises:
        InvalidParameter: the token is not one this server issued for this search.
    """
    payload: object = None
    if token:
        try:
            payload = json.loads(base64.b64decode(token, validate=True))
        except (binascii.Error, ValueError, UnicodeDecodeError):
            payload = None
    if not isinstance(payload, dict) or "after" not in payload:
        return decode_page_token(token)
    after = payload["after"]
    if payload.get("search") != signature:
        raise InvalidParameter("Invalid page token: it belongs to another search")
    if not isinstance(after, list) or not after or type(after[0]) is not int:
        raise InvalidParameter("Invalid page token: no valid position")
    return Cursor(after[0], tuple(after[1:]))
