"""The endpoints MLflow serves only under ``/ajax-api`` for its web UI.

``metrics/get-history-bulk`` (a chart's series), ``experiments/search-datasets`` (the dataset
filter of the runs table) and ``upload-artifact`` (a small file written into a run's
artifacts), plus the answers MLflow gives when its AI gateway and its telemetry are off
(``gateway-proxy``, ``ui-telemetry``). Everything else the UI calls is the regular API,
reached under ``/ajax-api`` too.
"""

from __future__ import annotations

import io

from flask import Blueprint, Response, jsonify, request

from registry.artifacts.paths import safe_relative_path
from registry.errors import InvalidParameter
from registry.server.api import artifact_store, parse, run_artifact_root
from registry.server.read_answers import datasets_page
from registry.store import metric_history_bulk
from registry.store.runs import get_run_row
from registry.wire import ui as schemas
from registry.wire.responses import shaped

bp = Blueprint("ui_api", __name__, url_prefix="/ajax-api")

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
"""MLflow's limit on one ``upload-artifact`` body."""


@bp.get("/2.0/mlflow/metrics/get-history-bulk")
def get_history_bulk() -> Response:
    """Every point of one metric for up to 100 runs (``run_id`` repeated), at most 25000 in all.

    Raises:
        InvalidParameter: no run id, more than 100, or no metric key.
    """
    args = parse(schemas.HistoryBulkArgs())
    rows = metric_history_bulk.get_history_bulk(
        args["run_id"], args["metric_key"], args["max_results"]
    )
    metrics = metric_history_bulk.points_json(rows)
    return jsonify(shaped(schemas.HistoryBulkResponse, metrics=metrics))


@bp.post("/2.0/mlflow/experiments/search-datasets")
def search_datasets() -> Response:
    """The datasets the runs of up to 20 experiments used, with their context tags.

    Raises:
        InvalidParameter: no experiment id, more than 20, or one that is not a number.
    """
    return jsonify(datasets_page(parse(schemas.SearchDatasetsArgs())["experiment_ids"]))


@bp.post("/2.0/mlflow/upload-artifact")
def upload_artifact() -> Response:
    """Write the body (up to 10 MB) to ``path`` inside the run's artifacts.

    Raises:
        InvalidParameter: no run id, path or body, a body over 10 MB, or a path that could
            leave the run's artifacts.
        NotFound: no such run.
    """
    if not request.args.get("run_uuid"):
        raise InvalidParameter("Request must specify run_uuid.")
    if not request.args.get("path"):
        raise InvalidParameter("Request must specify path.")
    args = schemas.UploadArtifactArgs().load(request.args.to_dict())  # the body is the file
    if request.args.get("run_id", args["run_uuid"]) != args["run_uuid"]:
        # The permission check reads run_id first: never let it name another run.
        raise InvalidParameter("run_id and run_uuid name different runs.")
    relative = safe_relative_path(args["path"])
    if not relative:
        raise InvalidParameter(f"Invalid path {args['path']!r}: it names no file.")
    if (request.content_length or 0) > MAX_UPLOAD_BYTES:
        raise InvalidParameter("Artifact size is too large. Max size is 10MB.")
    data = request.get_data(cache=False)
    if not data:
        raise InvalidParameter("Request must specify data.")
    if len(data) > MAX_UPLOAD_BYTES:
        raise InvalidParameter("Artifact size is too large. Max size is 10MB.")
    run = get_run_row(args["run_uuid"])
    root = run_artifact_root(run.artifact_uri, f"{run.experiment_id}/{run.run_uuid}/artifacts")
    artifact_store().put(f"{root}/{relative}", io.BytesIO(data))
    return Response(mimetype="application/json")


@bp.route("/2.0/mlflow/gateway-proxy", methods=["GET", "POST"])
def gateway_proxy() -> Response:
    """No AI gateway is configured: ``{"endpoints": []}``, as MLflow answers without one."""
    return jsonify(shaped(schemas.GatewayEndpointsResponse, endpoints=[]))


@bp.get("/3.0/mlflow/ui-telemetry")
def ui_telemetry_config() -> Response:
    """The UI's telemetry is off: this server collects nothing and sends nothing anywhere."""
    reply = {"disable_ui_telemetry": True, "disable_ui_events": [], "ui_rollout_percentage": 0}
    return jsonify(shaped(schemas.UiTelemetryConfig, **reply))


@bp.post("/3.0/mlflow/ui-telemetry")
def ui_telemetry_records() -> Response:
    """Telemetry records are dropped unread: ``{"status": "disabled"}``."""
    return jsonify(shaped(schemas.UiTelemetryStatus, status="disabled"))
