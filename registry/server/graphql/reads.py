"""The root fields of MLflow's GraphQL schema: each one the REST read it mirrors.

A field's input is loaded with that read's wire request schema (the same checks and messages),
authorised with its rule (``registry.auth.rules.GRAPHQL_FIELDS``), read through the same store
functions, and answered as the REST body, which the schema then reads field by field.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from graphql import GraphQLResolveInfo
from marshmallow import Schema, ValidationError

from registry.auth.enforce import authorize
from registry.auth.rules import GRAPHQL_FIELDS
from registry.server.api import artifact_listing, config, invalid_request
from registry.server.graphql.loads import RequestReads
from registry.server.graphql.mirrors import snake_case
from registry.server.hardening import (
    auth_memo,
    check_filter_size,
    current_principal,
    default_level,
)
from registry.server.read_answers import datasets_page, runs_page
from registry.services.listings import describe_versions
from registry.store import experiments, metric_history_bulk, runs
from registry.store.api_reads import experiment_row_json, run_json
from registry.store.registry_search import search_model_versions
from registry.wire import registry, ui
from registry.wire import responses as rs
from registry.wire import tracking as schemas
from registry.wire.base import JSON
from registry.wire.responses import shaped

Read = Callable[[dict[str, Any]], JSON]
Info = GraphQLResolveInfo[Any]


def root_field(request: type[Schema], read: Read) -> Callable[..., JSON]:
    """A root field's resolver: load its ``input``, check its rule, then ``read`` it."""

    def resolve(_root: Any, info: Info, input: Mapping[str, Any] | None = None) -> JSON:
        given = {
            snake_case(key): value for key, value in (input or {}).items() if value is not None
        }
        if isinstance(given.get("filter"), str):
            check_filter_size(given["filter"])  # what the guard checks of a REST search
        if config().auth:
            rule = GRAPHQL_FIELDS[info.field_name]
            authorize(current_principal(), rule, given, default_level(config()), auth_memo())
        try:
            args = request().load(given)
        except ValidationError as err:
            raise invalid_request(err) from None
        body = read(args)
        reads_of(info).saw(body)
        return body

    return resolve


def get_experiment(args: dict[str, Any]) -> JSON:
    """``experiments/get``."""
    found = experiments.get_experiment(args["experiment_id"])
    return shaped(rs.EXPERIMENT, experiment=experiment_row_json(found))


def get_run(args: dict[str, Any]) -> JSON:
    """``runs/get``."""
    return shaped(rs.RUN, run=run_json(runs.get_run(args["run_id"])))


def list_artifacts(args: dict[str, Any]) -> JSON:
    """``artifacts/list``: a run's artifacts under ``path``."""
    run = runs.get_run_row(args["run_id"])
    default = f"{run.experiment_id}/{run.run_uuid}/artifacts"
    listing: JSON = artifact_listing(run.artifact_uri, default, args["path"]).get_json()
    return listing


def history_bulk_interval(args: dict[str, Any]) -> JSON:
    """``metrics/get-history-bulk-interval``; no run ids is no points, as MLflow's GraphQL says.

    Raises:
        InvalidParameter: over 100 runs, a bad step range or max_results.
    """
    if not args["run_ids"]:
        return {}
    rows = metric_history_bulk.get_history_bulk_interval(
        args["run_ids"],
        args["metric_key"],
        (args["start_step"], args["end_step"]),
        args["max_results"],
    )
    return shaped(rs.METRIC_INTERVAL, metrics=metric_history_bulk.points_json(rows))


def search_datasets(args: dict[str, Any]) -> JSON:
    """``experiments/search-datasets``: the datasets the runs of up to 20 experiments used.

    Raises:
        InvalidParameter: no experiment id, more than 20, or one that is not a number.
    """
    return datasets_page(args["experiment_ids"])


def search_versions(args: dict[str, Any]) -> JSON:
    """``model-versions/search``."""
    found, token = search_model_versions(
        args["filter"], args["order_by"], args["max_results"], args["page_token"]
    )
    return shaped(
        rs.MODEL_VERSIONS_PAGE, model_versions=describe_versions(found), next_page_token=token
    )


def run_experiment(run: JSON, info: Info) -> JSON:
    """A run's experiment (readable with the run), read once per request."""
    return reads_of(info).experiment(str(run["info"]["experiment_id"]))


def run_model_versions(run: JSON, info: Info) -> list[JSON]:
    """The model versions registered from a run (those of models the caller may read).

    Read for every run of the request at once, the first time one is asked for.
    """
    return reads_of(info).versions_of(str(run["info"]["run_id"]))


def reads_of(info: Info) -> RequestReads:
    """The request's ``RequestReads`` (its GraphQL context)."""
    context = info.context
    assert isinstance(context, RequestReads), "run_document passes a RequestReads"
    return context


def echo(_root: Any, _info: Info, inputString: str | None = None) -> JSON:
    """MLflow's ``test`` field: the input string back."""
    return {"output": inputString}


QUERIES: dict[str, Callable[..., Any]] = {
    "mlflowGetExperiment": root_field(schemas.ExperimentIdSchema, get_experiment),
    "mlflowGetRun": root_field(schemas.RunIdSchema, get_run),
    "mlflowSearchRuns": root_field(schemas.RunSearchArgsSchema, runs_page),
    "mlflowListArtifacts": root_field(schemas.ListArtifactsSchema, list_artifacts),
    "mlflowGetMetricHistoryBulkInterval": root_field(
        schemas.BulkIntervalSchema, history_bulk_interval
    ),
    "mlflowSearchModelVersions": root_field(registry.SearchSchema, search_versions),
    "test": echo,
}
MUTATIONS: dict[str, Callable[..., Any]] = {
    "mlflowSearchRuns": QUERIES["mlflowSearchRuns"],
    "mlflowSearchDatasets": root_field(ui.SearchDatasetsArgs, search_datasets),
    "testMutation": echo,
}
RUN_FIELDS: dict[str, Callable[..., Any]] = {
    "experiment": run_experiment,
    "modelVersions": run_model_versions,
}
