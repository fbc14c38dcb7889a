"""The rule of every route: who may call it, and which object's permission it needs.

``RULES`` maps a Flask endpoint name to a ``Rule``. The server refuses to route a request whose
endpoint has no rule, and a test walks the app's URL map so a new route cannot ship without one.

Locators name where the request says which object it touches (a field of the query string, the
JSON body, the form or the URL): ``experiment_id`` (``experiment_id_or_default``: the Default
experiment when absent, as ``runs/create`` reads it), ``experiment_name``, ``run_id``,
``run_ids``, ``experiment_ids``, ``logged_model``, ``name`` (a registered model),
``request_id`` (the registered model of a transition request), ``artifact_path``,
``resource`` (``resource_type`` + ``resource_id``), and for a new model version
``version_source`` (the experiments of its ``run_id``, ``model_id`` and ``source``) and
``source_model`` (the registered model a ``models:/<name>/...`` source copies).
"""

from __future__ import annotations

from dataclasses import dataclass

from registry.auth.levels import Level
from registry.wire.imports import OPERATIONS as IMPORT_OPERATIONS

READ, EDIT, MANAGE = Level.READ, Level.EDIT, Level.MANAGE


@dataclass(frozen=True)
class Check:
    """The level needed on the object a locator finds (``experiment`` or ``model``)."""

    kind: str
    level: Level
    locator: str
    moves: bool = False
    """The call moves a stage or alias: MANAGE is needed when the model protects it."""
    approvals: bool = False
    """The call moves a version into a stage or alias: refused for everyone while the model's
    approval policy requires approvals for it (a transition request does it instead)."""
    frees_name: bool = False
    """The call renames or deletes the model, freeing its name for a new model without its
    protections: MANAGE is needed while it protects a stage or alias, an admin while its policy
    requires approvals."""


@dataclass(frozen=True)
class Rule:
    """Who may call a route.

    ``access`` is ``public`` (anyone), ``user`` (any authenticated user), ``self`` (the user
    named by ``username``, or an admin), ``admin``, or ``object`` (the ``checks`` decide).
    ``level`` is what the call does (READ, EDIT or MANAGE), capped by a token's scope.
    """

    access: str
    level: Level = READ
    checks: tuple[Check, ...] = ()


PUBLIC = Rule("public")
USER = Rule("user")
USER_WRITE = Rule("user", EDIT)
ADMIN = Rule("admin", MANAGE)
SELF = Rule("self")
SELF_WRITE = Rule("self", EDIT)


def exp(level: Level, locator: str) -> Rule:
    """A route on one experiment (or its runs, logged models, artifacts)."""
    return Rule("object", level, (Check("experiment", level, locator),))


def model(
    level: Level,
    locator: str = "name",
    *,
    moves: bool = False,
    approvals: bool = False,
    frees_name: bool = False,
) -> Rule:
    """A route on one registered model (or its versions, aliases, stages)."""
    return Rule("object", level, (Check("model", level, locator, moves, approvals, frees_name),))


_API = {
    # experiments
    "api_experiments.create": USER_WRITE,
    "api_experiments.get": exp(READ, "experiment_id"),
    "api_experiments.get_by_name": exp(READ, "experiment_name"),
    "api_experiments.search": USER,
    "api_experiments.update": exp(EDIT, "experiment_id"),
    "api_experiments.delete": exp(MANAGE, "experiment_id"),
    "api_experiments.restore": exp(MANAGE, "experiment_id"),
    "api_experiments.set_tag": exp(EDIT, "experiment_id"),
    "api_experiments.delete_tag": exp(EDIT, "experiment_id"),
    # runs
    "api_runs.create": exp(EDIT, "experiment_id_or_default"),
    "api_runs.get": exp(READ, "run_id"),
    "api_runs.search": USER,
    "api_runs.update": exp(EDIT, "run_id"),
    "api_runs.delete": exp(MANAGE, "run_id"),
    "api_runs.restore": exp(MANAGE, "run_id"),
    "api_runs.set_tag": exp(EDIT, "run_id"),
    "api_runs.delete_tag": exp(EDIT, "run_id"),
    "api_runs.log_batch": exp(EDIT, "run_id"),
    "api_runs.log_inputs": exp(EDIT, "run_id"),
    "api_runs.log_outputs": exp(EDIT, "run_id"),
    "api_runs.log_model": exp(EDIT, "run_id"),
    "api_runs.log_parameter": exp(EDIT, "run_id"),
    "api_metrics.log_metric": exp(EDIT, "run_id"),
    "api_metrics.get_history": exp(READ, "run_id"),
    "api_metrics.get_history_bulk_interval": exp(READ, "run_ids"),
    "api_run_artifacts.list_artifacts": exp(READ, "run_id"),
    # MLflow's web UI: only runs the user may read are in a bulk history
    "ui_api.get_history_bulk": USER,
    "ui_api.search_datasets": exp(READ, "experiment_ids"),
    "ui_api.upload_artifact": exp(EDIT, "run_id"),
    "ui_api.gateway_proxy": USER,
    "ui_api.ui_telemetry_config": PUBLIC,
    "ui_api.ui_telemetry_records": PUBLIC,
    "artifact_files.run_file": exp(READ, "run_id"),
    "artifact_files.version_file": model(READ),
    "artifact_files.logged_model_file": exp(READ, "logged_model"),
    # logged models
    "api_logged_models.create": exp(EDIT, "experiment_id"),
    "api_logged_models.get": exp(READ, "logged_model"),
    "api_logged_models.finalize": exp(EDIT, "logged_model"),
    "api_logged_models.delete": exp(MANAGE, "logged_model"),
    "api_logged_models.list_artifacts": exp(READ, "logged_model"),
    "api_logged_models.log_params": exp(EDIT, "logged_model"),
    "api_logged_models.set_tags": exp(EDIT, "logged_model"),
    "api_logged_models.delete_tag": exp(EDIT, "logged_model"),
    "api_logged_models.search": exp(READ, "experiment_ids"),
    # artifact proxy: the run, logged model or experiment that owns the path
    "artifacts.list_artifacts": exp(READ, "artifact_path"),
    "artifacts.download": exp(READ, "artifact_path"),
    "artifacts.presigned": exp(READ, "artifact_path"),
    "artifacts.upload": exp(EDIT, "artifact_path"),
    "artifacts.multipart": exp(EDIT, "artifact_path"),
    "artifacts.delete": exp(MANAGE, "artifact_path"),
    # registered models
    "registered_models.create": USER_WRITE,
    "registered_models.get": model(READ),
    "registered_models.search": USER,
    "registered_models.get_latest_versions": model(READ),
    "registered_models.get_by_alias": model(READ),
    "registered_models.update": model(EDIT),
    "registered_models.rename": model(EDIT, frees_name=True),
    "registered_models.set_tag": model(EDIT),
    "registered_models.delete_tag": model(EDIT),
    "registered_models.set_alias": model(EDIT, moves=True, approvals=True),
    "registered_models.delete_alias": model(EDIT, moves=True),
    "registered_models.delete": model(MANAGE, frees_name=True),
    "registered_models.set_exclusive_stages": model(MANAGE),
    # model versions
    # creating one: EDIT on the model, READ on what it would serve (see auth.version_sources)
    "model_versions.create": Rule(
        "object",
        EDIT,
        (
            Check("model", EDIT, "name"),
            Check("experiment", READ, "version_source"),
            Check("model", READ, "source_model"),
        ),
    ),
    "model_versions.get": model(READ),
    "model_versions.get_download_uri": model(READ),
    "model_versions.get_digest": model(READ),
    "model_versions.search": USER,
    "model_versions.update": model(EDIT),
    "model_versions.set_tag": model(EDIT),
    "model_versions.delete_tag": model(EDIT),
    "model_versions.transition_stage": model(EDIT, moves=True, approvals=True),
    "model_versions.delete": model(MANAGE),
    # our own registry endpoints
    "model_history.model_history": model(READ),
    "model_history.holders": model(READ),
    "model_history.rollback": model(EDIT, moves=True, approvals=True),
    "lineage.lineage": model(READ),
    # the event stream: READ on `model` when given; without it, unreadable models' events are
    # filtered out by the view
    "events.events": model(READ, "model"),
    "lineage.by_run": exp(READ, "run_id"),
    # `modelyard import mlflow --to http://...`: writes with the source's ids, for admins only
    **dict.fromkeys(IMPORT_OPERATIONS, ADMIN),
    # webhooks are deployment-wide (any model's events): admins only, as MLflow's auth does
    "webhooks.create_webhook": ADMIN,
    "webhooks.list_webhooks": ADMIN,
    "webhooks.get_webhook": ADMIN,
    "webhooks.update_webhook": ADMIN,
    "webhooks.delete_webhook": ADMIN,
    "webhooks.test_webhook": ADMIN,
    "webhooks.list_deliveries": ADMIN,
    "webhooks.redeliver": ADMIN,
    # MLflow's GraphQL: any user may ask; each root field checks GRAPHQL_FIELDS' rule
    "graphql.query": USER,
    # server meta
    "meta.health": PUBLIC,
    "meta.version": PUBLIC,
    "meta.server_info": PUBLIC,
    "openapi.document": USER,
    "prometheus_metrics": USER,
    "static": PUBLIC,
}

_AUTH_API = {
    "auth_api.create_user": ADMIN,
    "auth_api.get_user": SELF,
    "auth_api.current_user": USER,
    "auth_api.list_users": ADMIN,
    "auth_api.update_password": SELF_WRITE,
    "auth_api.update_admin": ADMIN,
    "auth_api.delete_user": ADMIN,
    "auth_api.create_experiment_permission": exp(MANAGE, "experiment_id"),
    "auth_api.get_experiment_permission": exp(MANAGE, "experiment_id"),
    "auth_api.update_experiment_permission": exp(MANAGE, "experiment_id"),
    "auth_api.delete_experiment_permission": exp(MANAGE, "experiment_id"),
    "auth_api.create_model_permission": model(MANAGE),
    "auth_api.get_model_permission": model(MANAGE),
    "auth_api.update_model_permission": model(MANAGE),
    "auth_api.delete_model_permission": model(MANAGE),
    "auth_api.grant_permission": Rule("object", MANAGE, (Check("resource", MANAGE, "resource"),)),
    "auth_api.revoke_permission": Rule("object", MANAGE, (Check("resource", MANAGE, "resource"),)),
    "auth_api.get_permission": SELF,
    "auth_api.create_token": USER_WRITE,
    "auth_api.list_tokens": USER,
    "auth_api.revoke_token": USER_WRITE,
    "auth_api.create_service_account": ADMIN,
    "auth_api.audit": ADMIN,
    "auth_api.get_protections": model(READ),
    "auth_api.set_protections": model(MANAGE),
    # approvals: EDIT requests; approvers are checked by the view (MANAGE or the policy's group)
    "transition_requests.create": model(EDIT),
    "transition_requests.get": Rule("object", READ, (Check("model", READ, "request_id"),)),
    "transition_requests.list_requests": USER,
    "transition_requests.approve": Rule("object", EDIT, (Check("model", READ, "request_id"),)),
    "transition_requests.reject": Rule("object", EDIT, (Check("model", READ, "request_id"),)),
    "transition_requests.cancel": Rule("object", EDIT, (Check("model", READ, "request_id"),)),
    "transition_requests.comment": Rule("object", EDIT, (Check("model", READ, "request_id"),)),
    "groups_api.add_member": ADMIN,
    "groups_api.remove_member": ADMIN,
    "groups_api.list_groups": ADMIN,
}

_UI = {
    "experiments.index": USER,
    "experiments.create": USER_WRITE,
    "experiments.rename": exp(EDIT, "experiment_id"),
    "experiments.describe": exp(EDIT, "experiment_id"),
    "experiments.set_tag": exp(EDIT, "experiment_id"),
    "experiments.delete_tag": exp(EDIT, "experiment_id"),
    "experiments.delete": exp(MANAGE, "experiment_id"),
    "experiments.restore": exp(MANAGE, "experiment_id"),
    "runs.table": exp(READ, "experiment_id"),
    "runs.act_on_selected": exp(MANAGE, "experiment_id"),
    "run.show": exp(READ, "run_id"),
    "run.set_tag": exp(EDIT, "run_id"),
    "run.delete_tag": exp(EDIT, "run_id"),
    "run.delete": exp(MANAGE, "run_id"),
    "run.restore": exp(MANAGE, "run_id"),
    "run.register": Rule(
        "object",
        EDIT,
        (Check("experiment", READ, "run_id"), Check("model", EDIT, "name")),
    ),
    "run_artifacts.download": exp(READ, "run_id"),
    "compare.compare": exp(READ, "runs"),
    "chart_grid.grid": exp(READ, "experiment_id"),
    "chart_grid.data": exp(READ, "experiment_id"),
    "models.index": USER,
    "models.show": model(READ),
    "models.version": model(READ),
    "models.describe": model(EDIT),
    "models.describe_version": model(EDIT),
    "models.set_tag": model(EDIT),
    "models.delete_tag": model(EDIT),
    "models.set_version_tag": model(EDIT),
    "models.delete_version_tag": model(EDIT),
    "models.transition": model(EDIT, moves=True, approvals=True),
    "models.set_alias": model(EDIT, moves=True, approvals=True),
    "models.delete_alias": model(EDIT, moves=True),
    "models.rollback": model(EDIT, moves=True, approvals=True),
    "model_requests.create": model(EDIT),
    "model_requests.review": Rule("object", EDIT, (Check("model", READ, "request_id"),)),
    "assets.plotly_js": PUBLIC,
    "assets.static": PUBLIC,
    "auth_ui.login": PUBLIC,
    "auth_ui.logout": PUBLIC,
    "auth_ui.admin": ADMIN,
    "auth_ui.admin_action": ADMIN,
}

RULES: dict[str, Rule] = {**_API, **_AUTH_API, **_UI}

GRAPHQL_FIELDS: dict[str, Rule] = {
    "mlflowGetExperiment": _API["api_experiments.get"],
    "mlflowGetRun": _API["api_runs.get"],
    "mlflowSearchRuns": _API["api_runs.search"],
    "mlflowListArtifacts": _API["api_run_artifacts.list_artifacts"],
    "mlflowGetMetricHistoryBulkInterval": _API["api_metrics.get_history_bulk_interval"],
    "mlflowSearchDatasets": _API["ui_api.search_datasets"],
    "mlflowSearchModelVersions": _API["model_versions.search"],
}
"""The rule of each GraphQL root field: the rule of the REST read it mirrors."""


def rule_for(endpoint: str | None) -> Rule | None:
    """The rule of ``endpoint``; None when it has none (the server then refuses the request)."""
    if endpoint is None:
        return None
    return RULES.get(endpoint)
