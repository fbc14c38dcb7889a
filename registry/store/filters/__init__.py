"""Search queries: a filter string and order-by items compiled to a peewee ``SELECT``.

The parser (``registry.search.parser``) checks the text; ``conditions`` and ``ordering`` turn
the tree into parameterised expressions; nothing from the request is formatted into SQL. Every
function returns an unpaged query: callers add ``LIMIT``/``OFFSET``.
"""

from __future__ import annotations

from typing import Any

import peewee as pw

from registry.errors import InvalidParameter
from registry.search.parser import parse_filter, parse_logged_model_order_by, parse_order_by
from registry.store.filters.conditions import compile_filter
from registry.store.filters.ordering import order_query, split_sort_metric
from registry.store.filters.targets import (
    EXPERIMENTS,
    LOGGED_MODELS,
    MODEL_VERSIONS,
    REGISTERED_MODELS,
    RUNS,
    Target,
)
from registry.store.filters.text import sortable
from registry.store.models import (
    ACTIVE,
    DELETED,
    Experiment,
    LoggedModel,
    ModelVersion,
    RegisteredModel,
    Run,
)

__all__ = [
    "run_stages",
    "search_experiments_query",
    "search_logged_models_query",
    "search_model_versions_query",
    "search_registered_models_query",
    "search_runs_query",
]

_VIEW_TYPES = {"ACTIVE_ONLY": (ACTIVE,), "DELETED_ONLY": (DELETED,), "ALL": (ACTIVE, DELETED)}


def search_runs_query(
    experiment_ids: list[int], filter_string: str | None, order_by: list[str] | None, view_type: str
) -> pw.ModelSelect[Any]:
    """Runs of ``experiment_ids`` matching the filter, ordered (default newest first), unpaged.

    Raises:
        InvalidParameter: a bad filter, order-by item or view type.
    """
    query = Run.select().where(Run.experiment.in_(experiment_ids))
    query = query.where(Run.lifecycle_stage.in_(_stages(view_type)))
    keys = parse_order_by(order_by, "runs")
    pushed, node = split_sort_metric(parse_filter(filter_string, "runs"), keys)
    if node is not None:
        condition = compile_filter(node, RUNS, probe=bool(pushed), experiments=experiment_ids)
        query = query.where(condition)
    tiebreak = [Run.start_time.desc(nulls="LAST"), Run.run_uuid.asc()]
    return order_query(query, RUNS, keys, tiebreak, pushed)


def search_experiments_query(
    filter_string: str | None, order_by: list[str] | None, view_type: str
) -> pw.ModelSelect[Any]:
    """Experiments matching the filter (default order: newest first, then id), unpaged.

    Raises:
        InvalidParameter: a bad filter, order-by item or view type.
    """
    query = Experiment.select().where(Experiment.lifecycle_stage.in_(_stages(view_type)))
    query = _filtered(query, filter_string, "experiments", EXPERIMENTS)
    keys = parse_order_by(order_by, "experiments")
    tiebreak = [Experiment.experiment_id.asc()]
    if not keys:
        tiebreak.insert(0, Experiment.creation_time.desc())
    return order_query(query, EXPERIMENTS, keys, tiebreak)


def search_logged_models_query(
    experiment_ids: list[int], filter_string: str | None, order_by: list[dict[str, Any]] | None
) -> pw.ModelSelect[Any]:
    """Active logged models of ``experiment_ids`` matching the filter, unpaged.

    ``order_by`` holds MLflow's ``{field_name, ascending, dataset_name, dataset_digest}`` dicts;
    the default (and final tie-break) is ``creation_timestamp_ms DESC, model_id``.

    Raises:
        InvalidParameter: a bad filter or ordering field.
    """
    query = LoggedModel.select().where(
        LoggedModel.experiment.in_(experiment_ids), LoggedModel.lifecycle_stage == ACTIVE
    )
    query = _filtered(query, filter_string, "logged_models", LOGGED_MODELS)
    keys = parse_logged_model_order_by(order_by)
    tiebreak = [LoggedModel.creation_timestamp_ms.desc(), LoggedModel.model_id.asc()]
    return order_query(query, LOGGED_MODELS, keys, tiebreak)


def search_registered_models_query(
    filter_string: str | None, order_by: list[str] | None
) -> pw.ModelSelect[Any]:
    """Registered models matching the filter, ordered by name unless told otherwise, unpaged.

    Raises:
        InvalidParameter: a bad filter or order-by item.
    """
    query = _filtered(
        RegisteredModel.select(), filter_string, "registered_models", REGISTERED_MODELS
    )
    keys = parse_order_by(order_by, "registered_models")
    return order_query(query, REGISTERED_MODELS, keys, [sortable(RegisteredModel.name).asc()])


def search_model_versions_query(
    filter_string: str | None, order_by: list[str] | None
) -> pw.ModelSelect[Any]:
    """Model versions (joined to their registered model) matching the filter, unpaged.

    The default order is ``last_updated_timestamp DESC, name ASC, version DESC``.

    Raises:
        InvalidParameter: a bad filter or order-by item.
    """
    query = ModelVersion.select(ModelVersion, RegisteredModel).join(RegisteredModel)
    query = query.switch(ModelVersion)
    query = _filtered(query, filter_string, "model_versions", MODEL_VERSIONS)
    keys = parse_order_by(order_by, "model_versions")
    tiebreak = [sortable(RegisteredModel.name).asc(), ModelVersion.version.desc()]
    if not keys:
        tiebreak.insert(0, ModelVersion.last_updated_timestamp.desc())
    return order_query(query, MODEL_VERSIONS, keys, tiebreak)


def _filtered(
    query: pw.ModelSelect[Any], filter_string: str | None, entity: str, target: Target
) -> pw.ModelSelect[Any]:
    node = parse_filter(filter_string, entity)
    return query if node is None else query.where(compile_filter(node, target))


def run_stages(view_type: str) -> tuple[str, ...]:
    """The lifecycle stages a view type (``ACTIVE_ONLY``, ``DELETED_ONLY``, ``ALL``) shows.

    Raises:
        InvalidParameter: an unknown view type.
    """
    return _stages(view_type)


def _stages(view_type: str) -> tuple[str, ...]:
    stages = _VIEW_TYPES.get((view_type or "ACTIVE_ONLY").upper())
    if stages is None:
        valid = ", ".join(_VIEW_TYPES)
        raise InvalidParameter(f"Invalid view_type '{view_type}'. Valid values are {valid}")
    return stages
