"""Paged searches of registered models and model versions (MLflow's filter grammar)."""

from __future__ import annotations

from typing import Any

import peewee

from registry.errors import InvalidParameter
from registry.search.paging import decode_page_token, encode_page_token
from registry.store.filters import search_model_versions_query, search_registered_models_query
from registry.store.model_versions import DELETED
from registry.store.models import ModelVersion, RegisteredModel
from registry.store.permissions import visible_models
from registry.store.version_rows import VersionRow, version_rows

MODELS_DEFAULT_MAX, MODELS_LIMIT = 100, 1000
VERSIONS_DEFAULT_MAX, VERSIONS_LIMIT = 10000, 200000


def search_registered_models(
    filter_string: str, order_by: list[str], max_results: int | None, page_token: str
) -> tuple[list[RegisteredModel], str | None]:
    """One page of the models matching ``filter_string``, and the next page's token.

    Raises:
        InvalidParameter: a bad filter, order-by item, page token or max_results.
    """
    limit = _limit(max_results, MODELS_DEFAULT_MAX, MODELS_LIMIT)
    query = search_registered_models_query(filter_string, order_by)
    query = query.where(visible_models(RegisteredModel.id))
    return _page(query, decode_page_token(page_token), limit)


def search_model_versions(
    filter_string: str, order_by: list[str], max_results: int | None, page_token: str
) -> tuple[list[VersionRow], str | None]:
    """One page of the versions matching ``filter_string``, and the next page's token.

    Raises:
        InvalidParameter: a bad filter, order-by item, page token or max_results.
    """
    limit = _limit(max_results, VERSIONS_DEFAULT_MAX, VERSIONS_LIMIT)
    query = search_model_versions_query(filter_string, order_by)
    query = query.where(ModelVersion.current_stage != DELETED)
    query = query.where(visible_models(ModelVersion.registered_model))
    offset = decode_page_token(page_token)
    rows = version_rows(query.offset(offset).limit(limit + 1))
    token = encode_page_token(offset + limit) if len(rows) > limit else None
    return rows[:limit], token


def _limit(max_results: int | None, default: int, ceiling: int) -> int:
    if max_results is None:
        return default
    if not 1 <= max_results <= ceiling:
        raise InvalidParameter(
            f"Invalid value {max_results} for parameter 'max_results': "
            f"it must be between 1 and {ceiling}."
        )
    return max_results


def _page(query: peewee.ModelSelect[Any], offset: int, limit: int) -> tuple[list[Any], str | None]:
    rows = list(query.offset(offset).limit(limit + 1))
    token = encode_page_token(offset + limit) if len(rows) > limit else None
    return rows[:limit], token
