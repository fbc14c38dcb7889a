"""What the OpenAPI document says each endpoint takes and answers.

Every shape is a schema of ``registry.wire``, the same the views parse and answer with; this
module only maps endpoint names to them (outside the API package, so that no API module imports
another). The test suite fails when an endpoint is missing.
"""

from __future__ import annotations

from dataclasses import dataclass

from marshmallow import Schema

from registry.wire import approvals as ap
from registry.wire import auth as au
from registry.wire import events as ev
from registry.wire import imports as im
from registry.wire import logged_models as lm
from registry.wire import registry as rg
from registry.wire import responses as rs
from registry.wire import tracking as tr
from registry.wire import ui
from registry.wire import webhooks as wh
from registry.wire.artifacts import ArtifactListing, ArtifactPathQuerySchema
from registry.wire.graphql import GRAPHQL_RESPONSE, GraphQLRequestSchema
from registry.wire.responses import EmptySchema, ErrorSchema

JSON_MEDIA = "application/json"


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
_FILES = ArtifactListing.Schema
_GRANT = Operation(au.ResourceGrantArgs, EmptySchema)


def _attachment(query: type[Schema]) -> Operation:
    """A file download: the bytes, sent as an attachment."""
    return Operation(query, None, response_media="application/octet-stream")


OPERATIONS: dict[str, Operation] = {
    "graphql.query": Operation(GraphQLRequestSchema, GRAPHQL_RESPONSE),
    "meta.health": _TEXT,
    "meta.version": _TEXT,
    "meta.server_info": Operation(response=rs.ServerInfoSchema),
    "prometheus_metrics": Operation(
        response=None,
        response_media="text/plain",
        summary="Prometheus metrics in the text exposition format.",
    ),
    "openapi.document": Operation(response=None),
    # experiments
    "api_experiments.create": Operation(tr.ExperimentCreateSchema, rs.EXPERIMENT_ID),
    "api_experiments.get": Operation(tr.ExperimentIdSchema, rs.EXPERIMENT),
    "api_experiments.get_by_name": Operation(tr.ExperimentByNameSchema, rs.EXPERIMENT),
    "api_experiments.search": Operation(tr.ExperimentSearchArgsSchema, rs.EXPERIMENTS),
    "api_experiments.update": Operation(tr.ExperimentUpdateSchema),
    "api_experiments.delete": Operation(tr.ExperimentIdSchema),
    "api_experiments.restore": Operation(tr.ExperimentIdSchema),
    "api_experiments.set_tag": Operation(tr.ExperimentTagSchema),
    "api_experiments.delete_tag": Operation(tr.ExperimentTagDeleteSchema),
    # runs and metrics
    "api_runs.create": Operation(tr.RunCreateSchema, rs.RUN),
    "api_runs.get": Operation(tr.RunIdSchema, rs.RUN),
    "api_runs.update": Operation(tr.RunUpdateSchema, rs.RUN_INFO),
    "api_runs.delete": Operation(tr.RunIdSchema),
    "api_runs.restore": Operation(tr.RunIdSchema),
    "api_runs.search": Operation(tr.RunSearchArgsSchema, rs.RUNS),
    "api_runs.log_parameter": Operation(tr.LogParamSchema),
    "api_runs.set_tag": Operation(tr.SetTagSchema),
    "api_runs.delete_tag": Operation(tr.DeleteTagSchema),
    "api_runs.log_batch": Operation(tr.LogBatchSchema),
    "api_runs.log_inputs": Operation(tr.LogInputsSchema),
    "api_runs.log_outputs": Operation(tr.LogOutputsSchema),
    "api_runs.log_model": Operation(tr.LogModelSchema),
    "api_metrics.log_metric": Operation(tr.LogMetricSchema),
    "api_metrics.get_history": Operation(tr.MetricHistorySchema, rs.METRIC_HISTORY),
    "api_metrics.get_history_bulk_interval": Operation(tr.BulkIntervalSchema, rs.METRIC_INTERVAL),
    "api_run_artifacts.list_artifacts": Operation(tr.ListArtifactsSchema, _FILES),
    # MLflow's web UI (ajax-api only) and its file downloads
    "ui_api.get_history_bulk": Operation(ui.HistoryBulkArgs, ui.HistoryBulkResponse),
    "ui_api.search_datasets": Operation(ui.SearchDatasetsArgs, ui.SearchDatasetsResponse),
    "ui_api.upload_artifact": Operation(
        request_media="application/octet-stream",
        response=None,
        summary="Write the body into a run's artifacts (?run_uuid=&path=; at most 10 MB).",
    ),
    "ui_api.gateway_proxy": Operation(response=ui.GatewayEndpointsResponse),
    "ui_api.ui_telemetry_config": Operation(response=ui.UiTelemetryConfig),
    "ui_api.ui_telemetry_records": Operation(response=ui.UiTelemetryStatus),
    "artifact_files.run_file": _attachment(ui.RunArtifactArgs),
    "artifact_files.version_file": _attachment(ui.VersionArtifactArgs),
    "artifact_files.logged_model_file": _attachment(ui.LoggedModelFileArgs),
    # logged models
    "api_logged_models.create": Operation(lm.LoggedModelCreateSchema, rs.LOGGED_MODEL),
    "api_logged_models.get": Operation(response=rs.LOGGED_MODEL),
    "api_logged_models.finalize": Operation(lm.LoggedModelFinalizeSchema, rs.LOGGED_MODEL),
    "api_logged_models.delete": Operation(),
    "api_logged_models.set_tags": Operation(lm.LoggedModelTagsSchema),
    "api_logged_models.delete_tag": Operation(),
    "api_logged_models.log_params": Operation(lm.LoggedModelParamsSchema),
    "api_logged_models.search": Operation(lm.LoggedModelSearchSchema, rs.LOGGED_MODELS),
    "api_logged_models.list_artifacts": Operation(lm.ModelArtifactQuerySchema, _FILES),
    # registered models
    "registered_models.create": Operation(rg.RegisteredModelCreateSchema, rs.REGISTERED_MODEL),
    "registered_models.get": Operation(rg.NameSchema, rs.REGISTERED_MODEL),
    "registered_models.rename": Operation(rg.RenameSchema, rs.REGISTERED_MODEL),
    "registered_models.update": Operation(rg.DescriptionSchema, rs.REGISTERED_MODEL),
    "registered_models.delete": Operation(rg.NameSchema),
    "registered_models.search": Operation(rg.SearchSchema, rs.REGISTERED_MODELS),
    "registered_models.get_latest_versions": Operation(rg.LatestVersionsSchema, rs.MODEL_VERSIONS),
    "registered_models.set_tag": Operation(rg.SetTagSchema),
    "registered_models.delete_tag": Operation(rg.DeleteTagSchema),
    "registered_models.set_alias": Operation(rg.SetAliasSchema),
    "registered_models.delete_alias": Operation(rg.AliasSchema),
    "registered_models.get_by_alias": Operation(rg.AliasSchema, rs.MODEL_VERSION),
    # model versions
    "model_versions.create": Operation(rg.VersionCreateSchema, rs.MODEL_VERSION),
    "model_versions.get": Operation(rg.VersionSchema, rs.MODEL_VERSION),
    "model_versions.update": Operation(rg.VersionDescriptionSchema, rs.MODEL_VERSION),
    "model_versions.delete": Operation(rg.VersionSchema),
    "model_versions.transition_stage": Operation(rg.TransitionSchema, rs.MODEL_VERSION),
    "model_versions.search": Operation(rg.SearchSchema, rs.MODEL_VERSIONS_PAGE),
    "model_versions.get_download_uri": Operation(rg.VersionSchema, rs.DOWNLOAD_URI),
    "model_versions.get_digest": Operation(rg.VersionSchema, rs.DIGEST),
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
    "registered_models.set_exclusive_stages": Operation(
        rg.ExclusiveStagesSchema, rs.REGISTERED_MODEL
    ),
    "model_history.model_history": Operation(rg.HistorySchema, rs.HISTORY),
    "model_history.holders": Operation(rg.HolderSchema, rs.HOLDERS),
    "model_history.rollback": Operation(rg.RollbackSchema, rs.TRANSITIONS),
    "events.events": Operation(ev.EventsRequestSchema, ev.EventsPageSchema),
    "lineage.lineage": Operation(rg.VersionSchema, rs.LINEAGE),
    "lineage.by_run": Operation(rg.RunIdSchema, rs.MODEL_VERSIONS),
    # auth (MLflow's names)
    "auth_api.create_user": Operation(au.NewUserArgs, au.USER),
    "auth_api.get_user": Operation(au.UsernameArgs, au.USER),
    "auth_api.current_user": Operation(None, au.USER),
    "auth_api.list_users": Operation(None, au.USERS),
    "auth_api.update_password": Operation(au.PasswordArgs),
    "auth_api.update_admin": Operation(au.AdminArgs),
    "auth_api.delete_user": Operation(au.UsernameArgs),
    "auth_api.create_experiment_permission": Operation(au.ExperimentGrantArgs, au.EXPERIMENT_GRANT),
    "auth_api.get_experiment_permission": Operation(au.ExperimentGrantArgs, au.EXPERIMENT_GRANT),
    "auth_api.update_experiment_permission": Operation(au.ExperimentGrantArgs),
    "auth_api.delete_experiment_permission": Operation(au.ExperimentGrantArgs),
    "auth_api.create_model_permission": Operation(au.ModelGrantArgs, au.MODEL_GRANT),
    "auth_api.get_model_permission": Operation(au.ModelGrantArgs, au.MODEL_GRANT),
    "auth_api.update_model_permission": Operation(au.ModelGrantArgs),
    "auth_api.delete_model_permission": Operation(au.ModelGrantArgs),
    "auth_api.grant_permission": _GRANT,
    "auth_api.revoke_permission": _GRANT,
    "auth_api.get_permission": Operation(au.ResourceGrantArgs, au.PERMISSION_CHECK),
    "auth_api.create_token": Operation(au.NewTokenArgs, au.NEW_TOKEN),
    "auth_api.list_tokens": Operation(au.TokenListArgs, au.TOKENS),
    "auth_api.revoke_token": Operation(au.TokenIdArgs, au.REVOKED_TOKEN),
    "auth_api.create_service_account": Operation(au.UsernameArgs, au.USER),
    "auth_api.get_protections": Operation(au.ModelNameArgs, ap.ApprovalPolicy.Schema),
    "auth_api.set_protections": Operation(ap.PolicyArgs, ap.ApprovalPolicy.Schema),
    "transition_requests.create": Operation(ap.NewRequestArgs, ap.REQUEST),
    "transition_requests.get": Operation(ap.RequestIdArgs, ap.REQUEST),
    "transition_requests.list_requests": Operation(ap.RequestListArgs, ap.REQUESTS),
    "transition_requests.approve": Operation(ap.ReviewArgs, ap.REQUEST),
    "transition_requests.reject": Operation(ap.ReviewArgs, ap.REQUEST),
    "transition_requests.cancel": Operation(ap.ReviewArgs, ap.REQUEST),
    "transition_requests.comment": Operation(ap.ReviewArgs, ap.REQUEST),
    "groups_api.add_member": Operation(ap.GroupMemberArgs, ap.GROUPS),
    "groups_api.remove_member": Operation(ap.GroupMemberArgs, ap.GROUPS),
    "groups_api.list_groups": Operation(ap.GroupListArgs, ap.GROUPS),
    "auth_api.audit": Operation(au.AuditArgs, au.AUDIT_PAGE),
    **{name: Operation(request, reply) for name, (request, reply) in im.OPERATIONS.items()},
    # webhooks (MLflow's), and their deliveries (ours)
    "webhooks.create_webhook": Operation(wh.CreateWebhookArgs, wh.WEBHOOK),
    "webhooks.list_webhooks": Operation(wh.ListWebhooksArgs, wh.WEBHOOKS),
    "webhooks.get_webhook": Operation(None, wh.WEBHOOK),
    "webhooks.update_webhook": Operation(wh.UpdateWebhookArgs, wh.WEBHOOK),
    "webhooks.delete_webhook": Operation(None, EmptySchema),
    "webhooks.test_webhook": Operation(wh.TestWebhookArgs, wh.TEST_RESULT),
    "webhooks.list_deliveries": Operation(wh.DeliveriesArgs, wh.DELIVERIES),
    "webhooks.redeliver": Operation(wh.RedeliverArgs, wh.DELIVERY),
}
