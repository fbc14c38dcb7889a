"""``runs/search``: one page of runs, loaded without N+1 queries."""

from __future__ import annotations

from registry.errors import InvalidParameter
from registry.search.paging import decode_page_token, encode_page_token
from registry.store.experiments import parse_experiment_id
from registry.store.filters import search_runs_query
from registry.store.models import Run
from registry.store.permissions import visible_experiments
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
    offset = decode_page_token(page_token)
    query = search_runs_query(ids, filter_string, order_by, view_type)
    query = query.where(visible_experiments(Run.experiment))
    rows = list(query.offset(offset).limit(max_results + 1))
    token = encode_page_token(offset + max_results) if len(rows) > max_results else None
    return load_records(rows[:max_results]), token
