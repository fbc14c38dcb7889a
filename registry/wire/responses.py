"""Whole response bodies: an entity under its key, pages, errors, and the small answers."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields

from registry.wire.base import ResponseSchema
from registry.wire.fields import Int64
from registry.wire.logged_models import LoggedModel
from registry.wire.registry import ModelVersion, RegisteredModel, Transition, VersionLineage
from registry.wire.tracking import Experiment, Metric, Run, RunInfo


class ErrorSchema(ResponseSchema):
    """The body of every JSON error."""

    error_code = fields.String(required=True, metadata={"example": "RESOURCE_DOES_NOT_EXIST"})
    message = fields.String(required=True)
    details = fields.Dict(metadata={"description": "Per-field messages, when there are any."})


class EmptySchema(ResponseSchema):
    """``{}``: the request succeeded and there is nothing to say."""


class ServerInfoSchema(ResponseSchema):
    """What the server offers (multipart and presigned transfers: never)."""

    store_type = fields.String()
    workspaces_enabled = fields.Boolean()
    trace_archival_enabled = fields.Boolean()
    multipart_uploads_enabled = fields.Boolean()
    multipart_downloads_enabled = fields.Boolean()
    presigned_upload_run_id_supported = fields.Boolean()
    presigned_upload_model_id_supported = fields.Boolean()
    features_enabled = fields.Dict()


def body(schema_name: str, /, **declared: fields.Field[Any]) -> type[Schema]:
    """A response body made of the given fields (empty ones omitted where marked)."""
    return ResponseSchema.from_dict(declared, name=schema_name)


def one(schema_name: str, key: str, item: type[Any]) -> type[Schema]:
    """``{key: item}``."""
    return body(schema_name, **{key: fields.Nested(item.Schema)})


def page(schema_name: str, key: str, item: type[Any]) -> type[Schema]:
    """A listing: ``key`` omitted when empty, ``next_page_token`` only when more exist."""
    declared: dict[str, fields.Field[Any]] = {
        key: fields.List(fields.Nested(item.Schema), metadata={"omit": "empty"}),
        "next_page_token": fields.String(metadata={"omit": "empty"}),
    }
    return body(schema_name, **declared)


def listing(schema_name: str, key: str, item: type[Any]) -> type[Schema]:
    """A registry listing: ``key`` always present, ``next_page_token`` only when more exist."""
    declared: dict[str, fields.Field[Any]] = {
        key: fields.List(fields.Nested(item.Schema)),
        "next_page_token": fields.String(metadata={"omit": "empty"}),
    }
    return body(schema_name, **declared)


def many(schema_name: str, key: str, item: type[Any]) -> type[Schema]:
    """``{key: [item, ...]}``, the key always present."""
    return body(schema_name, **{key: fields.List(fields.Nested(item.Schema))})


EXPERIMENT_ID = body("ExperimentIdResponse", experiment_id=fields.String())
EXPERIMENT = one("ExperimentResponse", "experiment", Experiment)
EXPERIMENTS = page("ExperimentsPage", "experiments", Experiment)
RUN = one("RunResponse", "run", Run)
RUN_INFO = one("RunInfoResponse", "run_info", RunInfo)
RUNS = page("RunsPage", "runs", Run)
METRIC_HISTORY = page("MetricHistoryPage", "metrics", Metric)
METRIC_INTERVAL = page("MetricIntervalPage", "metrics", Metric)
LOGGED_MODEL = one("LoggedModelResponse", "model", LoggedModel)
LOGGED_MODELS = page("LoggedModelsPage", "models", LoggedModel)
REGISTERED_MODEL = one("RegisteredModelResponse", "registered_model", RegisteredModel)
REGISTERED_MODELS = listing("RegisteredModelsPage", "registered_models", RegisteredModel)
MODEL_VERSION = one("ModelVersionResponse", "model_version", ModelVersion)
MODEL_VERSIONS = many("ModelVersionsResponse", "model_versions", ModelVersion)
MODEL_VERSIONS_PAGE = listing("ModelVersionsPage", "model_versions", ModelVersion)
DOWNLOAD_URI = body("DownloadUriResponse", artifact_uri=fields.String())
DIGEST = body(
    "ModelDigestResponse",
    name=fields.String(),
    version=fields.String(),
    model_digest=fields.String(allow_none=True),
)
TRANSITIONS = many("TransitionsResponse", "transitions", Transition)
HISTORY = listing("HistoryPage", "transitions", Transition)
HOLDERS = body(
    "HoldersResponse", name=fields.String(), at=Int64(), versions=fields.List(fields.String())
)
LINEAGE = VersionLineage.Schema


def shaped(schema: type[Schema], /, **parts: Any) -> dict[str, Any]:
    """A response body of ``schema`` from already-encoded parts, in the schema's order.

    Parts the schema marks as omitted when empty are left out; a part the schema does not
    declare is an error, so a view cannot answer a field the document does not show.
    """
    declared = schema._declared_fields
    unknown = parts.keys() - declared.keys()
    if unknown:
        raise KeyError(f"{schema.__name__} has no field {sorted(unknown)}")
    found: dict[str, Any] = {}
    for name, field in declared.items():
        if name not in parts:
            continue
        value = parts[name]
        omit = field.metadata.get("omit", "never")
        if omit != "never" and (value is None or (omit == "empty" and not value)):
            continue
        found[field.data_key or name] = value
    return found
