"""``/api/2.0/mlflow/experiments/*``."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from flask import Blueprint, Response, jsonify

from registry.errors import InvalidParameter
from registry.server.api import API_PREFIX, config, parse
from registry.store import experiments as store
from registry.store.api_reads import experiment_json, experiment_row_json
from registry.store.validation import validate_artifact_location
from registry.wire import responses as rs
from registry.wire import tracking as schemas
from registry.wire.responses import shaped

bp = Blueprint("api_experiments", __name__, url_prefix=f"{API_PREFIX}/experiments")


@bp.post("/create")
def create() -> Response:
    """Create an experiment; answers its id."""
    args = parse(schemas.ExperimentCreateSchema())
    location = store.resolve_local_location(args["artifact_location"], PurePosixPath(Path.cwd()))
    _check_location(args["artifact_location"], location)
    experiment = store.create_experiment(args["name"], location, schemas.to_dict(args["tags"]))
    return jsonify(shaped(rs.EXPERIMENT_ID, experiment_id=str(experiment.experiment_id)))


def _check_location(given: str | None, resolved: str | None) -> None:
    # The resolved location must pass the artifact-location gate, as any location does; a
    # relative one the operator allowed as written (a relative prefix) passes as written.
    try:
        validate_artifact_location(resolved, config())
    except InvalidParameter:
        if resolved == given:
            raise
        validate_artifact_location(given, config())


@bp.get("/get")
def get() -> Response:
    """One experiment by id."""
    args = parse(schemas.ExperimentIdSchema())
    experiment = store.get_experiment(args["experiment_id"])
    return jsonify(shaped(rs.EXPERIMENT, experiment=experiment_row_json(experiment)))


@bp.get("/get-by-name")
def get_by_name() -> Response:
    """One experiment by name (deleted ones included)."""
    args = parse(schemas.ExperimentByNameSchema())
    experiment = store.get_experiment_by_name(args["experiment_name"])
    return jsonify(shaped(rs.EXPERIMENT, experiment=experiment_row_json(experiment)))


@bp.route("/search", methods=["GET", "POST"])
def search() -> Response:
    """A page of experiments matching a filter."""
    args = parse(schemas.ExperimentSearchArgsSchema())
    records, token = store.search_experiments(
        args["filter"], args["order_by"], args["view_type"], args["max_results"], args["page_token"]
    )
    items = [experiment_json(record) for record in records]
    return jsonify(shaped(rs.EXPERIMENTS, experiments=items, next_page_token=token))


@bp.post("/update")
def update() -> Response:
    """Rename an experiment."""
    args = parse(schemas.ExperimentUpdateSchema())
    store.rename_experiment(args["experiment_id"], args["new_name"])
    return jsonify({})


@bp.post("/delete")
def delete() -> Response:
    """Soft-delete an experiment."""
    store.delete_experiment(parse(schemas.ExperimentIdSchema())["experiment_id"])
    return jsonify({})


@bp.post("/restore")
def restore() -> Response:
    """Restore a deleted experiment."""
    store.restore_experiment(parse(schemas.ExperimentIdSchema())["experiment_id"])
    return jsonify({})


@bp.post("/set-experiment-tag")
def set_tag() -> Response:
    """Set a tag on an experiment."""
    args = parse(schemas.ExperimentTagSchema())
    store.set_experiment_tag(args["experiment_id"], args["key"], args["value"])
    return jsonify({})


@bp.post("/delete-experiment-tag")
def delete_tag() -> Response:
    """Remove a tag from an experiment."""
    args = parse(schemas.ExperimentTagDeleteSchema())
    store.delete_experiment_tag(args["experiment_id"], args["key"])
    return jsonify({})
