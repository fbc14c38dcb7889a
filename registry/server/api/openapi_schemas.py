"""What the OpenAPI document says each endpoint takes and answers.

The views parse requests with the schemas of ``registry.schemas`` but build responses with plain
functions, so the response shapes are written here as documentation-only marshmallow schemas.
``OPERATIONS`` maps every JSON API endpoint name to its request and response; the test suite
fails when an endpoint is missing from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from marshmallow import EXCLUDE, Schema, fields

from registry.schemas import logged_models as lm
from registry.schemas import registry as rg
from registry.schemas import tracking as tr
from registry.schemas.common import Double, Int64, KeyValueSchema

JSON_MEDIA = "application/json"
_KV = fields.List(fields.Nested(KeyValueSchema))


class ResponseBody(Schema):
    """Base of the response shapes: open, since a later version may add fields."""

    class Meta:
        unknown = EXCLUDE


class ErrorSchema(ResponseBody):
    """The body of every JSON error."""

    error_code = fields.String(required=True, metadata={"example": "RESOURCE_DOES_NOT_EXIST"})
    message = fields.String(required=True)
    details = fields.Dict(metadata={"description": "Per-field messages, when there are any."})


class EmptySchema(ResponseBody):
    """``{}``: the request succeeded and there is nothing to say."""


class ExperimentSchema(ResponseBody):
    """An Experiment."""

    experiment_id = fields.String()
    name = fields.String()
    artifact_location = fields.String()
    lifecycle_stage = fields.String(metadata={"enum": ["active", "deleted"]})
    last_update_time = Int64()
    creation_time = Int64()
    tags = _KV


class RunInfoSchema(ResponseBody):
    """A RunInfo (``run_uuid`` repeats ``run_id`` for old clients)."""

    run_id = fields.String()
    run_uuid = fields.String()
    run_name = fields.String()
    experiment_id = fields.String()
    user_id = fields.String()
    status = fields.String(
        metadata={"enum": ["RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED"]}
    )
    start_time = Int64()
    end_time = Int64()
    artifact_uri = fields.String()
    lifecycle_stage = fields.String()


class MetricPointSchema(ResponseBody):
    """A metric point (``run_id`` only in bulk-interval answers)."""

    key = fields.String()
    value = Double()
    timestamp = Int64()
    step = Int64()
    dataset_name = fields.String()
    dataset_digest = fields.String()
    model_id = fields.String()
    run_id = fields.String()


class RunDataSchema(ResponseBody):
    """A run's latest metrics, params and tags."""

    metrics = fields.List(fields.Nested(MetricPointSchema))
    params = _KV
    tags = _KV


class RunInputsSchema(ResponseBody):
    """Datasets and models a run consumed."""

    dataset_inputs = fields.List(fields.Nested(tr.DatasetInputSchema))
    model_inputs = fields.List(fields.Nested(tr.ModelIdSchema))


class RunOutputsSchema(ResponseBody):
    """Models a run produced."""

    model_outputs = fields.List(fields.Nested(tr.ModelOutputSchema))


class RunSchema(ResponseBody):
    """A Run."""

    info = fields.Nested(RunInfoSchema)
    data = fields.Nested(RunDataSchema)
    inputs = fields.Nested(RunInputsSchema)
    outputs = fields.Nested(RunOutputsSchema)


class FileInfoSchema(ResponseBody):
    """One entry of an artifact listing."""

    path = fields.String()
    is_dir = fields.Boolean()
    file_size = Int64()


class ModelVersionSchema(ResponseBody):
    """A ModelVersion (``status`` is always ``READY``)."""

    name = fields.String()
    version = fields.String()
    creation_timestamp = Int64()
    last_updated_timestamp = Int64()
    user_id = fields.String()
    current_stage = fields.String()
    description = fields.String()
    source = fields.String()
    run_id = fields.String()
    status = fields.String()
    status_message = fields.String()
    run_link = fields.String()
    tags = _KV
    aliases = fields.List(fields.String())
    model_id = fields.String()


class AliasEntrySchema(ResponseBody):
    """An alias and the version it points at."""

    alias = fields.String()
    version = fields.String()


class RegisteredModelSchema(ResponseBody):
    """A RegisteredModel, plus our ``exclusive_stages`` flag."""

    name = fields.String()
    creation_timestamp = Int64()
    last_updated_timestamp = Int64()
    user_id = fields.String()
    description = fields.String()
    latest_versions = fields.List(fields.Nested(ModelVersionSchema))
    tags = _KV
    aliases = fields.List(fields.Nested(AliasEntrySchema))
    exclusive_stages = fields.Boolean()


class HistoryEntrySchema(ResponseBody):
    """Ours: one history entry (a stage change or an alias move)."""

    id = fields.String()
    name = fields.String()
    version = fields.String(allow_none=True)
    kind = fields.String()
    from_ = fields.String(data_key="from", allow_none=True)
    to = fields.String(allow_none=True)
    user_id = fields.String()
    timestamp = Int64()
    comment = fields.String()
    alias = fields.String()
    rollback_of = fields.String()


class LoggedModelInfoSchema(ResponseBody):
    """A LoggedModel's info."""

    model_id = fields.String()
    experiment_id = fields.String()
    name = fields.String()
    creation_timestamp_ms = Int64()
    last_updated_timestamp_ms = Int64()
    artifact_uri = fields.String()
    status = fields.String()
    status_message = fields.String()
    model_type = fields.String()
    source_run_id = fields.String()
    tags = _KV


class LoggedModelDataSchema(ResponseBody):
    """A LoggedModel's params and metrics."""

    params = _KV
    metrics = fields.List(fields.Nested(MetricPointSchema))


class LoggedModelSchema(ResponseBody):
    """A LoggedModel."""

    info = fields.Nested(LoggedModelInfoSchema)
    data = fields.Nested(LoggedModelDataSchema)


class LineageRunSchema(RunInfoSchema):
    """Ours: the run behind a version, flattened with its data and dataset inputs."""

    start_time = Int64(allow_none=True)
    end_time = Int64(allow_none=True)
    params = _KV
    metrics = fields.List(fields.Nested(MetricPointSchema))
    tags = _KV
    dataset_inputs = fields.List(fields.Nested(tr.DatasetInputSchema))


class LineageLoggedModelSchema(ResponseBody):
    """Ours: the logged model behind a version."""

    model_id = fields.String()
    name = fields.String()
    experiment_id = fields.String()
    artifact_uri = fields.String()
    status = fields.String()
    source_run_id = fields.String()
    tags = _KV


class ServerInfoSchema(ResponseBody):
    """What the server offers (multipart and presigned transfers: never)."""

    store_type = fields.String()
    workspaces_enabled = fields.Boolean()
    trace_archival_enabled = fields.Boolean()
    multipart_uploads_enabled = fields.Boolean()
    multipart_downloads_enabled = fields.Boolean()
    presigned_upload_run_id_supported = fields.Boolean()
    presigned_upload_model_id_supported = fields.Boolean()
    features_enabled = fields.Dict()


class ArtifactPathQuerySchema(Schema):
    """The artifact proxy's listing: a directory under the root (the root when absent)."""

    path = fields.String()


class ModelArtifactQuerySchema(Schema):
    """A directory inside a logged model's artifacts."""

    artifact_directory_path = fields.String()


def _body(schema_name: str, /, **body: fields.Field[Any]) -> type[Schema]:
    return ResponseBody.from_dict(body, name=schema_name)


def _paged(name: str, key: str, item: type[Schema]) -> type[Schema]:
    page: dict[str, fields.Field[Any]] = {
        key: fields.List(fields.Nested(item)),
        "next_page_token": fields.String(),
    }
    return _body(name, **page)


_EXPERIMENT = _body("ExperimentResponse", experiment=fields.Nested(ExperimentSchema))
_RUN = _body("RunResponse", run=fields.Nested(RunSchema))
_MODEL = _body("RegisteredModelResponse", registered_model=fields.Nested(RegisteredModelSchema))
_VERSION = _body("ModelVersionResponse", model_version=fields.Nested(ModelVersionSchema))
_VERSIONS = _body(
    "ModelVersionsResponse", model_versions=fields.List(fields.Nested(ModelVersionSchema))
)
_LOGGED = _body("LoggedModelResponse", model=fields.Nested(LoggedModelSchema))
_TRANSITIONS = _body(
    "TransitionsResponse", transitions=fields.List(fields.Nested(HistoryEntrySchema))
)
_FILES = _body(
    "ArtifactListResponse",
    root_uri=fields.String(),
    files=fields.List(fields.Nested(FileInfoSchema)),
    next_page_token=fields.String(),
)


@dataclass(frozen=True)
class Operation:
    """One endpoint's documentation.

    ``request`` is read from query parameters for GET and from a JSON body otherwise; when it
    is None and ``request_media`` is not JSON, the body is raw bytes of that media type.
    ``response`` is the JSON body answered with ``status``; when None, the body is raw bytes of
    ``response_media``. ``summary`` stands in for a view without a docstring.
    """

    request: type[Schema] | None = None
    response: type[Schema] | None = EmptySchema
    request_media: str = JSON_MEDIA
    response_media: str = JSON_MEDIA
    status: int = 200
    summary: str = ""


_TEXT = Operation(response=None, response_media="text/plain")
_NOT_OFFERED = Operation(response=ErrorSchema, status=501)

OPERATIONS: dict[str, Operation] = {
    "meta.health": _TEXT,
    "meta.version": _TEXT,
    "meta.server_info": Operation(response=ServerInfoSchema),
    "prometheus_metrics": Operation(
        response=None,
        response_media="text/plain",
        summary="Prometheus metrics in the text exposition format.",
    ),
    "openapi.document": Operation(response=None),
    # experiments
    "api_experiments.create": Operation(
        tr.ExperimentCreateSchema, _body("ExperimentIdResponse", experiment_id=fields.String())
    ),
    "api_experiments.get": Operation(tr.ExperimentIdSchema, _EXPERIMENT),
    "api_experiments.get_by_name": Operation(tr.ExperimentByNameSchema, _EXPERIMENT),
    "api_experiments.search": Operation(
        tr.ExperimentSearchArgsSchema,
        _paged("ExperimentsPage", "experiments", ExperimentSchema),
    ),
    "api_experiments.update": Operation(tr.ExperimentUpdateSchema),
    "api_experiments.delete": Operation(tr.ExperimentIdSchema),
    "api_experiments.restore": Operation(tr.ExperimentIdSchema),
    "api_experiments.set_tag": Operation(tr.ExperimentTagSchema),
    "api_experiments.delete_tag": Operation(tr.ExperimentTagDeleteSchema),
    # runs and metrics
    "api_runs.create": Operation(tr.RunCreateSchema, _RUN),
    "api_runs.get": Operation(tr.RunIdSchema, _RUN),
    "api_runs.update": Operation(
        tr.RunUpdateSchema, _body("RunInfoResponse", run_info=fields.Nested(RunInfoSchema))
    ),
    "api_runs.delete": Operation(tr.RunIdSchema),
    "api_runs.restore": Operation(tr.RunIdSchema),
    "api_runs.search": Operation(tr.RunSearchArgsSchema, _paged("RunsPage", "runs", RunSchema)),
    "api_runs.log_parameter": Operation(tr.LogParamSchema),
    "api_runs.set_tag": Operation(tr.SetTagSchema),
    "api_runs.delete_tag": Operation(tr.DeleteTagSchema),
    "api_runs.log_batch": Operation(tr.LogBatchSchema),
    "api_runs.log_inputs": Operation(tr.LogInputsSchema),
    "api_runs.log_outputs": Operation(tr.LogOutputsSchema),
    "api_runs.log_model": Operation(tr.LogModelSchema),
    "api_metrics.log_metric": Operation(tr.LogMetricSchema),
    "api_metrics.get_history": Operation(
        tr.MetricHistorySchema, _paged("MetricHistoryPage", "metrics", MetricPointSchema)
    ),
    "api_metrics.get_history_bulk_interval": Operation(
        tr.BulkIntervalSchema, _paged("MetricIntervalPage", "metrics", MetricPointSchema)
    ),
    "api_run_artifacts.list_artifacts": Operation(tr.ListArtifactsSchema, _FILES),
    # logged models
    "api_logged_models.create": Operation(lm.LoggedModelCreateSchema, _LOGGED),
    "api_logged_models.get": Operation(response=_LOGGED),
    "api_logged_models.finalize": Operation(lm.LoggedModelFinalizeSchema, _LOGGED),
    "api_logged_models.delete": Operation(),
    "api_logged_models.set_tags": Operation(lm.LoggedModelTagsSchema),
    "api_logged_models.delete_tag": Operation(),
    "api_logged_models.log_params": Operation(lm.LoggedModelParamsSchema),
    "api_logged_models.search": Operation(
        lm.LoggedModelSearchSchema, _paged("LoggedModelsPage", "models", LoggedModelSchema)
    ),
    "api_logged_models.list_artifacts": Operation(ModelArtifactQuerySchema, _FILES),
    # registered models
    "registered_models.create": Operation(rg.RegisteredModelCreateSchema, _MODEL),
    "registered_models.get": Operation(rg.NameSchema, _MODEL),
    "registered_models.rename": Operation(rg.RenameSchema, _MODEL),
    "registered_models.update": Operation(rg.DescriptionSchema, _MODEL),
    "registered_models.delete": Operation(rg.NameSchema),
    "registered_models.search": Operation(
        rg.SearchSchema,
        _paged("RegisteredModelsPage", "registered_models", RegisteredModelSchema),
    ),
    "registered_models.get_latest_versions": Operation(rg.LatestVersionsSchema, _VERSIONS),
    "registered_models.set_tag": Operation(rg.SetTagSchema),
    "registered_models.delete_tag": Operation(rg.DeleteTagSchema),
    "registered_models.set_alias": Operation(rg.SetAliasSchema),
    "registered_models.delete_alias": Operation(rg.AliasSchema),
    "registered_models.get_by_alias": Operation(rg.AliasSchema, _VERSION),
    # model versions
    "model_versions.create": Operation(rg.VersionCreateSchema, _VERSION),
    "model_versions.get": Operation(rg.VersionSchema, _VERSION),
    "model_versions.update": Operation(rg.VersionDescriptionSchema, _VERSION),
    "model_versions.delete": Operation(rg.VersionSchema),
    "model_versions.transition_stage": Operation(rg.TransitionSchema, _VERSION),
    "model_versions.search": Operation(
        rg.SearchSchema, _paged("ModelVersionsPage", "model_versions", ModelVersionSchema)
    ),
    "model_versions.get_download_uri": Operation(
        rg.VersionSchema, _body("DownloadUriResponse", artifact_uri=fields.String())
    ),
    "model_versions.get_digest": Operation(
        rg.VersionSchema,
        _body(
            "ModelDigestResponse",
            name=fields.String(),
            version=fields.String(),
            model_digest=fields.String(allow_none=True),
        ),
    ),
    "model_versions.set_tag": Operation(rg.VersionSetTagSchema),
    "model_versions.delete_tag": Operation(rg.VersionDeleteTagSchema),
    # artifact proxy
    "artifacts.list_artifacts": Operation(ArtifactPathQuerySchema, _FILES),
    "artifacts.upload": Operation(request_media="application/octet-stream"),
    "artifacts.download": Operation(response=None, response_media="application/octet-stream"),
    "artifacts.delete": Operation(),
    "artifacts.multipart": _NOT_OFFERED,
    "artifacts.presigned": _NOT_OFFERED,
    # ours
    "registered_models.set_exclusive_stages": Operation(rg.ExclusiveStagesSchema, _MODEL),
    "model_history.model_history": Operation(
        rg.HistorySchema,
        _body(
            "HistoryPage",
            transitions=fields.List(fields.Nested(HistoryEntrySchema)),
            next_page_token=fields.String(),
        ),
    ),
    "model_history.holders": Operation(
        rg.HolderSchema,
        _body(
            "HoldersResponse",
            name=fields.String(),
            at=Int64(),
            versions=fields.List(fields.String()),
        ),
    ),
    "model_history.rollback": Operation(rg.RollbackSchema, _TRANSITIONS),
    "lineage.lineage": Operation(
        rg.VersionSchema,
        _body(
            "LineageResponse",
            model_version=fields.Nested(ModelVersionSchema),
            run=fields.Nested(LineageRunSchema),
            git_commit=fields.String(),
            source_name=fields.String(),
            user=fields.String(),
            logged_model=fields.Nested(LineageLoggedModelSchema),
        ),
    ),
    "lineage.by_run": Operation(rg.RunIdSchema, _VERSIONS),
}
