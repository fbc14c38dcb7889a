"""MLflow 3 logged models: create, finalize, tag, soft-delete, search."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from registry.errors import InvalidParameter, NotFound
from registry.search.paging import decode_page_token, encode_page_token
from registry.store import write_transaction
from registry.store.experiments import get_active_experiment, now_ms, parse_experiment_id
from registry.store.filters import search_logged_models_query
from registry.store.models import (
    ACTIVE,
    DELETED,
    LoggedModel,
    LoggedModelParam,
    LoggedModelTag,
    Metric,
)
from registry.store.run_names import generate_run_name
from registry.store.upserts import upsert_key_values
from registry.store.validation import validate_length, validate_param, validate_tag

STATUSES = ("LOGGED_MODEL_PENDING", "LOGGED_MODEL_READY", "LOGGED_MODEL_UPLOAD_FAILED")
MAX_SEARCH_RESULTS = 50000


@dataclass(frozen=True)
class LoggedModelRecord:
    """A logged model with its tags, params and the metrics logged with its id."""

    model: LoggedModel
    tags: list[LoggedModelTag]
    params: list[LoggedModelParam]
    metrics: list[Metric]


def create_logged_model(
    experiment_id: str | int,
    name: str | None = None,
    model_type: str = "",
    source_run_id: str | None = None,
    params: dict[str, str] | None = None,
    tags: dict[str, str] | None = None,
) -> LoggedModelRecord:
    """Create a PENDING logged model with id ``m-<32 hex>`` in an active experiment.

    Raises:
        InvalidParameter: a bad param or tag, or the experiment is deleted.
        NotFound: no experiment has this id.
    """
    validate_length(name, 500, "Logged model name")
    validate_length(model_type, 500, "model_type")
    validate_length(source_run_id, 32, "source_run_id")
    params, tags = params or {}, tags or {}
    for key, value in params.items():
        validate_param(key, value)
    for key, value in tags.items():
        validate_tag(key, value)
    model_id = f"m-{uuid.uuid4().hex}"
    now = now_ms()
    with write_transaction():
        experiment = get_active_experiment(experiment_id)
        LoggedModel.create(
            model_id=model_id,
            experiment=experiment.experiment_id,
            name=name or generate_run_name(),
            model_type=model_type or "",
            source_run_id=source_run_id or None,
            artifact_uri=f"{experiment.artifact_location}/models/{model_id}/artifacts",
            creation_timestamp_ms=now,
            last_updated_timestamp_ms=now,
        )
        upsert_key_values(LoggedModelParam, LoggedModelParam.model, model_id, params)
        upsert_key_values(LoggedModelTag, LoggedModelTag.model, model_id, tags)
    return get_logged_model(model_id)


def _get_row(model_id: str) -> LoggedModel:
    found = LoggedModel.get_or_none(
        LoggedModel.model_id == model_id, LoggedModel.lifecycle_stage == ACTIVE
    )
    if found is None:
        raise NotFound(f"Logged model with ID '{model_id}' not found.")
    return found


def get_logged_model(model_id: str) -> LoggedModelRecord:
    """The logged model (not deleted) with its tags, params and metrics.

    Raises:
        NotFound: no such logged model, or it was deleted.
    """
    return with_related([_get_row(model_id)])[0]


def with_related(models: Iterable[LoggedModel]) -> list[LoggedModelRecord]:
    """Attach tags, params and metrics to logged models, one query per table."""
    rows = list(models)
    if not rows:
        return []
    ids = [row.model_id for row in rows]
    related: dict[str, dict[str, list[Any]]] = defaultdict(lambda: defaultdict(list))
    for tag in (
        LoggedModelTag.select().where(LoggedModelTag.model.in_(ids)).order_by(LoggedModelTag.key)
    ):
        related[tag.model_id]["tags"].append(tag)
    for param in (
        LoggedModelParam.select()
        .where(LoggedModelParam.model.in_(ids))
        .order_by(LoggedModelParam.key)
    ):
        related[param.model_id]["params"].append(param)
    for metric in Metric.select().where(Metric.model_id.in_(ids)).order_by(Metric.key, Metric.step):
        related[str(metric.model_id)]["metrics"].append(metric)
    return [
        LoggedModelRecord(
            row,
            related[row.model_id]["tags"],
            related[row.model_id]["params"],
            related[row.model_id]["metrics"],
        )
        for row in rows
    ]


def finalize_logged_model(model_id: str, status: str) -> LoggedModelRecord:
    """Set a logged model's status (READY or UPLOAD_FAILED) and return it.

    Raises:
        InvalidParameter: an unknown status.
        NotFound: no such logged model.
    """
    if status not in STATUSES:
        raise InvalidParameter(
            f"Invalid logged model status {status!r}: use one of {', '.join(STATUSES)}"
        )
    with write_transaction():
        _get_row(model_id)
        LoggedModel.update(status=status, last_updated_timestamp_ms=now_ms()).where(
            LoggedModel.model_id == model_id
        ).execute()
    return get_logged_model(model_id)


def delete_logged_model(model_id: str) -> None:
    """Soft-delete a logged model; it is no longer found or listed.

    Raises:
        NotFound: no such logged model.
    """
    with write_transaction():
        _get_row(model_id)
        LoggedModel.update(lifecycle_stage=DELETED, last_updated_timestamp_ms=now_ms()).where(
            LoggedModel.model_id == model_id
        ).execute()


def set_logged_model_tags(model_id: str, tags: dict[str, str]) -> None:
    """Set (or overwrite) tags of a logged model.

    Raises:
        InvalidParameter: a bad tag.
        NotFound: no such logged model.
    """
    for key, value in tags.items():
        validate_tag(key, value)
    with write_transaction():
        _get_row(model_id)
        upsert_key_values(LoggedModelTag, LoggedModelTag.model, model_id, tags)


def delete_logged_model_tag(model_id: str, key: str) -> None:
    """Remove a tag from a logged model.

    Raises:
        NotFound: no such logged model or tag.
    """
    with write_transaction():
        _get_row(model_id)
        deleted = (
            LoggedModelTag.delete()
            .where(LoggedModelTag.model == model_id, LoggedModelTag.key == key)
            .execute()
        )
    if not deleted:
        raise NotFound(f"No tag with key '{key}' on logged model '{model_id}'.")


def log_logged_model_params(model_id: str, params: dict[str, str]) -> None:
    """Add params to a logged model.

    Raises:
        InvalidParameter: a bad param.
        NotFound: no such logged model.
    """
    for key, value in params.items():
        validate_param(key, value)
    with write_transaction():
        _get_row(model_id)
        upsert_key_values(LoggedModelParam, LoggedModelParam.model, model_id, params)


def search_logged_models(
    experiment_ids: list[str],
    filter_string: str | None,
    order_by: list[dict[str, Any]] | None,
    max_results: int,
    page_token: str | None,
) -> tuple[list[LoggedModelRecord], str | None]:
    """One page of logged models and the next page's token (None on the last page).

    Raises:
        InvalidParameter: a bad filter, order_by, experiment id, max_results or page token.
    """
    if not 1 <= max_results <= MAX_SEARCH_RESULTS:
        raise InvalidParameter(f"Invalid value {max_results} for parameter 'max_results'.")
    ids = [parse_experiment_id(value) for value in experiment_ids]
    offset = decode_page_token(page_token)
    query = search_logged_models_query(ids, filter_string, mlflow_order_by(order_by))
    rows = list(query.offset(offset).limit(max_results + 1))
    token = encode_page_token(offset + max_results) if len(rows) > max_results else None
    return with_related(rows[:max_results]), token


_ORDER_ALIASES = {
    "creation_time": "creation_timestamp",
    "creation_timestamp_ms": "creation_timestamp",
    "last_updated_timestamp_ms": "last_updated_timestamp",
}
_ORDER_ATTRIBUTES = frozenset(
    {"name", "model_id", "model_type", "status", "source_run_id", "creation_timestamp"}
    | {"last_updated_timestamp"}
)


def mlflow_order_by(order_by: list[dict[str, Any]] | None) -> list[dict[str, Any]] | None:
    """``order_by`` with MLflow's column names and aliases read as ours, checked as MLflow does.

    Whatever the order, ties end as MLflow's do: newest first (``creation_timestamp_ms DESC``),
    then ``model_id``. ``params.<key>`` and ``tags.<key>`` order too (MLflow orders by metrics
    only).

    Raises:
        InvalidParameter: a field that is not a logged model's attribute, in MLflow's words.
    """
    if not order_by:
        return order_by
    checked = []
    for item in order_by:
        field_name = item.get("field_name") if isinstance(item, dict) else None
        if isinstance(field_name, str) and field_name and "." not in field_name:
            field_name = _ORDER_ALIASES.get(field_name, field_name)
            if field_name not in _ORDER_ATTRIBUTES:
                raise InvalidParameter(f"Invalid order by field name: {item['field_name']}")
            item = {**item, "field_name": field_name}
        checked.append(item)
    return checked
