"""MLflow 3 logged models: request and response shapes."""

from __future__ import annotations

from marshmallow import fields

from registry.wire.base import Entity, KeyValueSchema, RequestSchema, entity, wire
from registry.wire.fields import IdString, Int64, KeyValues
from registry.wire.tracking import Metric


@entity
class LoggedModelInfo(Entity):
    """A logged model's metadata."""

    model_id: str = wire(fields.String())
    experiment_id: str = wire(IdString(), default="")
    name: str = wire(fields.String(), default="")
    creation_timestamp_ms: int | None = wire(Int64(), default=None)
    last_updated_timestamp_ms: int | None = wire(Int64(), default=None)
    artifact_uri: str = wire(fields.String(), default="")
    status: str = wire(fields.String(), default="LOGGED_MODEL_PENDING")
    model_type: str = wire(fields.String(), default="")
    source_run_id: str | None = wire(fields.String(), default=None, omit="empty")
    status_message: str = wire(fields.String(), default="", omit="empty")
    tags: dict[str, str] = wire(KeyValues(), factory=dict, omit="empty")


@entity
class LoggedModelData(Entity):
    """A logged model's params and the metrics logged with its id."""

    params: dict[str, str] = wire(KeyValues(), factory=dict, omit="empty")
    metrics: tuple[Metric, ...] = wire(
        fields.List(fields.Nested(Metric.Schema)), default=(), omit="empty"
    )


@entity
class LoggedModel(Entity):
    """An MLflow 3 logged model: files under ``artifact_uri``, linked to its run."""

    info: LoggedModelInfo = wire(fields.Nested(LoggedModelInfo.Schema))
    data: LoggedModelData = wire(fields.Nested(LoggedModelData.Schema), factory=LoggedModelData)

    @property
    def model_id(self) -> str:
        """The model's id (``m-...``)."""
        return self.info.model_id

    @property
    def experiment_id(self) -> str:
        """The experiment it belongs to."""
        return self.info.experiment_id

    @property
    def name(self) -> str:
        """Its name."""
        return self.info.name

    @property
    def artifact_uri(self) -> str:
        """Where its files are."""
        return self.info.artifact_uri

    @property
    def status(self) -> str:
        """``LOGGED_MODEL_PENDING``, ``LOGGED_MODEL_READY`` or ``LOGGED_MODEL_UPLOAD_FAILED``."""
        return self.info.status

    @property
    def source_run_id(self) -> str | None:
        """The run that logged it."""
        return self.info.source_run_id

    @property
    def tags(self) -> dict[str, str]:
        """Its tags."""
        return self.info.tags

    @property
    def params(self) -> dict[str, str]:
        """Its params."""
        return self.data.params

    @property
    def metrics(self) -> tuple[Metric, ...]:
        """The metrics logged with its id."""
        return self.data.metrics

    @property
    def creation_timestamp(self) -> int | None:
        """When it was created (ms)."""
        return self.info.creation_timestamp_ms

    @property
    def last_updated_timestamp(self) -> int | None:
        """When it last changed (ms)."""
        return self.info.last_updated_timestamp_ms


def _pairs() -> fields.List[KeyValueSchema]:
    return fields.List(fields.Nested(KeyValueSchema), load_default=list)


class LoggedModelCreateSchema(RequestSchema):
    """POST logged-models."""

    experiment_id = IdString(required=True)
    name = fields.String(load_default=None)
    model_type = fields.String(load_default="")
    source_run_id = fields.String(load_default=None)
    params = _pairs()
    tags = _pairs()


class LoggedModelFinalizeSchema(RequestSchema):
    """PATCH logged-models/{model_id}."""

    status = fields.String(required=True)


class LoggedModelTagsSchema(RequestSchema):
    """PATCH logged-models/{model_id}/tags."""

    tags = _pairs()


class LoggedModelParamsSchema(RequestSchema):
    """POST logged-models/{model_id}/params."""

    params = _pairs()


class DatasetFilterSchema(RequestSchema):
    """A dataset restriction of logged-models/search."""

    dataset_name = fields.String(required=True)
    dataset_digest = fields.String(load_default=None)


class OrderBySchema(RequestSchema):
    """One ``order_by`` item of logged-models/search."""

    field_name = fields.String(required=True)
    ascending = fields.Boolean(load_default=True)
    dataset_name = fields.String(load_default=None)
    dataset_digest = fields.String(load_default=None)


class LoggedModelSearchSchema(RequestSchema):
    """POST logged-models/search."""

    experiment_ids = fields.List(IdString(), load_default=list)
    filter = fields.String(load_default=None)
    datasets = fields.List(fields.Nested(DatasetFilterSchema), load_default=list)
    max_results = Int64(load_default=100)
    order_by = fields.List(fields.Nested(OrderBySchema), load_default=list)
    page_token = fields.String(load_default=None)


class ModelArtifactQuerySchema(RequestSchema):
    """A directory inside a logged model's artifacts."""

    artifact_directory_path = fields.String()
