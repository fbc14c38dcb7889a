"""``runs/log-metric`` and ``/api/2.0/mlflow/metrics/*``: logging and reading metric history."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from registry.server.api import API_PREFIX, parse
from registry.store import metrics as store
from registry.store.api_reads import metric_json
from registry.wire import responses as rs
from registry.wire import tracking as schemas
from registry.wire.responses import shaped

bp = Blueprint("api_metrics", __name__, url_prefix=API_PREFIX)


@bp.post("/runs/log-metric")
def log_metric() -> Response:
    """Append one point to a run's metric history."""
    args = parse(schemas.LogMetricSchema())
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
    """Sampled history of one key for several runs, each point carrying its run id."""
    args = parse(schemas.BulkIntervalSchema())
    rows = store.get_history_bulk_interval(
        args["run_ids"],
        args["metric_key"],
        args["start_step"],
        args["end_step"],
        args["max_results"],
    )
    items = [metric_json(row, row.run_id) for row in rows]
    return jsonify(shaped(rs.METRIC_INTERVAL, metrics=items))
