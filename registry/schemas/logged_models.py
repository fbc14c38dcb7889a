"""Request schemas and the response dumper for MLflow 3 logged models."""

from __future__ import annotations

from typing import Any

from marshmallow import fields

from registry.schemas.common import IdString, Int64, KeyValueSchema, StrictSchema
from registry.schemas.tracking import dump_metric
from registry.store.logged_models import LoggedModelRecord

JSON = dict[str, Any]


class LoggedModelCreateSchema(StrictSchema):
    """POST logged-models."""

    experiment_id = IdString(required=True)
    name = fields.String(load_default=None)
    model_type = fields.String(load_default="")
    source_run_id = fields.String(load_default=None)
    params = fields.List(fields.Nested(KeyValueSchema), load_default=list)
    tags = fields.List(fields.Nested(KeyValueSchema), load_default=list)


class LoggedModelFinalizeSchema(StrictSchema):
    """PATCH logged-models/{model_id}."""

    status = fields.String(required=True)


class LoggedModelTagsSchema(StrictSchema):
    """PATCH logged-models/{model_id}/tags."""

    tags = fields.List(fields.Nested(KeyValueSchema), load_default=list)


class LoggedModelParamsSchema(StrictSchema):
    """POST logged-models/{model_id}/params."""

    params = fields.List(fields.Nested(KeyValueSchema), load_default=list)


class DatasetFilterSchema(StrictSchema):
    """A dataset restriction of logged-models/search."""

    dataset_name = fields.String(required=True)
    dataset_digest = fields.String(load_default=None)


class OrderBySchema(StrictSchema):
    """One ``order_by`` item of logged-models/search."""

    field_name = fields.String(required=True)
    ascending = fields.Boolean(load_default=True)
    dataset_name = fields.String(load_default=None)
    dataset_digest = fields.String(load_default=None)


class LoggedModelSearchSchema(StrictSchema):
    """POST logged-models/search."""

    experiment_ids = fields.List(IdString(), load_default=list)
    filter = fields.String(load_default=None)
    datasets = fields.List(fields.Nested(DatasetFilterSchema), load_default=list)
    max_results = Int64(load_default=100)
    order_by = fields.List(fields.Nested(OrderBySchema), load_default=list)
    page_token = fields.String(load_default=None)


def dump_logged_model(record: LoggedModelRecord) -> JSON:
    """A LoggedModel: ``{info, data}``."""
    model = record.model
    info: JSON = {
        "model_id": model.model_id,
        "experiment_id": str(model.experiment_id),
        "name": model.name,
        "creation_timestamp_ms": model.creation_timestamp_ms,
        "last_updated_timestamp_ms": model.last_updated_timestamp_ms,
        "artifact_uri": model.artifact_uri,
        "status": model.status,
        "model_type": model.model_type,
    }
    if model.source_run_id:
        info["source_run_id"] = model.source_run_id
    if model.status_message:
        info["status_message"] = model.status_message
    if record.tags:
        info["tags"] = [{"key": t.key, "value": t.value} for t in record.tags]
    data: JSON = {}
    if record.params:
        data["params"] = [{"key": p.key, "value": p.value} for p in record.params]
    if record.metrics:
        data["metrics"] = [dump_metric(m, m.run_id) for m in record.metrics]
    return {"info": info, "data": data}
