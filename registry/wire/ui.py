"""The shapes of the endpoints MLflow serves its web UI (under ``/ajax-api`` and ``/get-artifact``).

MLflow answers ``metrics/get-history-bulk`` with a plain dict rather than proto JSON, so its
``metrics`` list is there even when empty.
"""

from __future__ import annotations

from marshmallow import fields

from registry.wire.base import Entity, RequestSchema, ResponseSchema, entity, wire
from registry.wire.fields import Int64
from registry.wire.tracking import Metric


class HistoryBulkArgs(RequestSchema):
    """GET ajax-api metrics/get-history-bulk: ``run_id`` repeated once per run."""

    run_id = fields.List(fields.String(), load_default=list)
    metric_key = fields.String(load_default=None)
    max_results = Int64(load_default=None)


class HistoryBulkResponse(ResponseSchema):
    """Every point of one metric across the runs, each with its ``run_id``."""

    metrics = fields.List(fields.Nested(Metric.Schema))


class SearchDatasetsArgs(RequestSchema):
    """POST ajax-api experiments/search-datasets."""

    experiment_ids = fields.List(fields.String(), load_default=list)


@entity
class DatasetSummary(Entity):
    """A dataset the runs of an experiment used, and the context tag it was used with."""

    experiment_id: str = wire(fields.String())
    name: str = wire(fields.String())
    digest: str = wire(fields.String())
    context: str | None = wire(fields.String(), default=None, omit="none")


class SearchDatasetsResponse(ResponseSchema):
    """The experiments' dataset summaries (the key is left out when there are none)."""

    dataset_summaries = fields.List(
        fields.Nested(DatasetSummary.Schema), metadata={"omit": "empty"}
    )


class UploadArtifactArgs(RequestSchema):
    """POST ajax-api upload-artifact: the body is the file's bytes."""

    run_uuid = fields.String(required=True)
    path = fields.String(required=True)


class RunArtifactArgs(RequestSchema):
    """GET get-artifact: a file of a run's artifacts (``run_id`` or ``run_uuid``)."""

    run_id = fields.String()
    run_uuid = fields.String()
    path = fields.String(required=True)


class VersionArtifactArgs(RequestSchema):
    """GET model-versions/get-artifact: a file of a model version's artifacts."""

    name = fields.String(required=True)
    version = fields.String(required=True)
    path = fields.String(required=True)


class LoggedModelFileArgs(RequestSchema):
    """GET ajax-api logged-models/{model_id}/artifacts/files."""

    artifact_file_path = fields.String(required=True)


class GatewayEndpointsResponse(ResponseSchema):
    """``gateway-proxy`` with no AI gateway configured: no endpoints, as MLflow answers."""

    endpoints = fields.List(fields.Dict())


class UiTelemetryConfig(ResponseSchema):
    """GET ajax-api 3.0 ``ui-telemetry``: this server collects none, so the UI sends none."""

    disable_ui_telemetry = fields.Boolean()
    disable_ui_events = fields.List(fields.String())
    ui_rollout_percentage = fields.Integer()


class UiTelemetryStatus(ResponseSchema):
    """POST ajax-api 3.0 ``ui-telemetry``: the records are dropped."""

    status = fields.String()
