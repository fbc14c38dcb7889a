"""``/api/2.0/mlflow/runs/*``: run lifecycle, params, tags, batches, inputs and outputs."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, request

from registry.server.api import API_PREFIX, parse
from registry.server.json_body import json_response
from registry.server.read_answers import runs_page
from registry.store import datasets, run_data
from registry.store import runs as store
from registry.store.api_reads import run_info_json, run_json
from registry.store.validation import validate_batch_sizes
from registry.wire import responses as rs
from registry.wire import tracking as schemas
from registry.wire.responses import shaped

bp = Blueprint("api_runs", __name__, url_prefix=f"{API_PREFIX}/runs")
# The busiest writes' schemas, built once: building one costs as much as loading a request.
_CREATE = schemas.RunCreateSchema()
_LOG_BATCH = schemas.LogBatchSchema()


@bp.post("/create")
def create() -> Response:
    """Create a run; answers the whole run."""
    args = parse(_CREATE)
    record = store.create_run_record(
        args["experiment_id"],
        args["user_id"],
        args["run_name"],
        args["start_time"],
        schemas.to_dict(args["tags"]),
    )
    return json_response(shaped(rs.RUN, run=run_json(record)))


@bp.get("/get")
def get() -> Response:
    """One run with its data, inputs and outputs."""
    args = parse(schemas.RunIdSchema())
    return jsonify(shaped(rs.RUN, run=run_json(store.get_run(args["run_id"]))))


@bp.post("/update")
def update() -> Response:
    """Change a run's status, end time or name."""
    args = parse(schemas.RunUpdateSchema())
    run = store.update_run(args["run_id"], args["status"], args["end_time"], args["run_name"])
    return jsonify(shaped(rs.RUN_INFO, run_info=run_info_json(run)))


@bp.post("/delete")
def delete() -> Response:
    """Soft-delete a run."""
    store.delete_run(parse(schemas.RunIdSchema())["run_id"])
    return _empty_answer()


@bp.post("/restore")
def restore() -> Response:
    """Restore a deleted run."""
    store.restore_run(parse(schemas.RunIdSchema())["run_id"])
    return _empty_answer()


@bp.post("/search")
def search() -> Response:
    """A page of runs matching a filter, in the requested order."""
    return json_response(runs_page(parse(schemas.RunSearchArgsSchema())))


@bp.post("/log-parameter")
def log_parameter() -> Response:
    """Log one param."""
    args = parse(schemas.LogParamSchema())
    run_data.log_param(args["run_id"], args["key"], args["value"])
    return _empty_answer()


@bp.post("/set-tag")
def set_tag() -> Response:
    """Set one tag."""
    args = parse(schemas.SetTagSchema())
    run_data.set_tag(args["run_id"], args["key"], args["value"])
    return _empty_answer()


@bp.post("/delete-tag")
def delete_tag() -> Response:
    """Remove one tag."""
    args = parse(schemas.DeleteTagSchema())
    run_data.delete_tag(args["run_id"], args["key"])
    return _empty_answer()


@bp.post("/log-batch")
def log_batch() -> Response:
    """Log metrics, params and tags in one transaction."""
    _check_batch_sizes()
    args = parse(_LOG_BATCH)
    run_data.log_batch(
        args["run_id"],
        metrics=args["metrics"],
        params=[(p["key"], p["value"]) for p in args["params"]],
        tags=[(t["key"], t["value"]) for t in args["tags"]],
    )
    return _empty_answer()


@bp.post("/log-inputs")
def log_inputs() -> Response:
    """Link datasets and models to a run as inputs."""
    args = parse(schemas.LogInputsSchema())
    inputs = [
        datasets.DatasetInput(**item["dataset"], tags=schemas.to_dict(item["tags"]))
        for item in args["datasets"]
    ]
    model_ids = [model["model_id"] for model in args["models"]]
    datasets.log_inputs(args["run_id"], inputs, model_ids)
    return _empty_answer()


@bp.post("/outputs")
def log_outputs() -> Response:
    """Link logged models to a run as outputs."""
    args = parse(schemas.LogOutputsSchema())
    datasets.log_outputs(args["run_id"], [(m["model_id"], m["step"]) for m in args["models"]])
    return _empty_answer()


@bp.post("/log-model")
def log_model() -> Response:
    """Record an MLflow 2 model description on the run."""
    args = parse(schemas.LogModelSchema())
    run_data.log_model_history(args["run_id"], args["model_json"])
    return _empty_answer()


def _empty_answer() -> Response:
    """``jsonify({})`` without encoding it: ``{}`` is the same text in every JSON setting."""
    return current_app.response_class(b"{}\n", mimetype=current_app.json.mimetype)  # type: ignore[attr-defined]


def _check_batch_sizes() -> None:
    # Refuse an oversized batch by its list lengths, before a single entry is loaded.
    body = request.get_json(force=True, silent=True)
    if isinstance(body, dict):
        validate_batch_sizes(*(_as_list(body.get(name)) for name in ("metrics", "params", "tags")))


def _as_list(value: object) -> list[object]:
    return value if isinstance(value, list) else []
