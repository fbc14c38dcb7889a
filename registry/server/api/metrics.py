"""``runs/log-metric`` and ``/api/2.0/mlflow/metrics/*``: logging and reading metric history."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from registry.errors import InvalidParameter
from registry.server.api import _API_DOCS_HINT as API_DOCS_HINT
from registry.server.api import API_PREFIX, mlflow_message, parse
from registry.store import metric_history_bulk as bulk
from registry.store import metrics as store
from registry.store.api_reads import metric_json
from registry.wire import responses as rs
from registry.wire import tracking as schemas
from registry.wire.responses import shaped

bp = Blueprint("api_metrics", __name__, url_prefix=API_PREFIX)
_LOG_METRIC = schemas.LogMetricSchema()  # built once: building costs as much as a load


@bp.post("/runs/log-metric")
def log_metric() -> Response:
    """Append one point to a run's metric history."""
    args = parse(_LOG_METRIC)
    run_id = args.pop("run_id")
    store.log_metric(run_id, store.MetricPoint(**args))
    return jsonify({})


@bp.get("/metrics/get-history")
def get_history() -> Response:
    """A page of a run's history for one key, in step order."""
    args = parse(schemas.MetricHistorySchema())
    rows, token = store.get_metric_history(
        args["run_id"], args["metric_key"], args["max_results"], args["page_token"]
    )
    return jsonify(
        shaped(rs.METRIC_HISTORY, metrics=[metric_json(r) for r in rows], next_page_token=token)
    )


@bp.get("/metrics/get-history-bulk-interval")
def get_history_bulk_interval() -> Response:
    """Sampled history of one key for up to 100 runs, each point carrying its run id.

    At most ``max_results`` (1 to 2500, default 2500) points per run, spread as MLflow spreads
    them; ``start_step`` and ``end_step`` (inclusive) come together or not at all.

    Raises:
        InvalidParameter: no run ids or more than 100, a bad step range or max_results.
    """
    args = parse(schemas.BulkIntervalSchema())
    if not args["run_ids"]:
        raise InvalidParameter(mlflow_message({"run_ids": ["Missing"]}, {}))
    rows = bulk.get_history_bulk_interval(
        args["run_ids"],
        args["metric_key"],
        (args["start_step"], args["end_step"]),
        args["max_results"],
        note=API_DOCS_HINT,
    )
    return jsonify(shaped(rs.METRIC_INTERVAL, metrics=bulk.points_json(rows)))
