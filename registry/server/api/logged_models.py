"""``/api/2.0/mlflow/logged-models``: MLflow 3's logged models."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from registry.server.api import API_PREFIX, artifact_listing, parse
from registry.store import logged_models as store
from registry.store.api_reads import logged_model_json
from registry.wire import logged_models as schemas
from registry.wire import responses as rs
from registry.wire.responses import shaped
from registry.wire.tracking import to_dict

bp = Blueprint("api_logged_models", __name__, url_prefix=f"{API_PREFIX}/logged-models")


def _model(record: store.LoggedModelRecord) -> Response:
    return jsonify(shaped(rs.LOGGED_MODEL, model=logged_model_json(record)))


@bp.post("")
def create() -> Response:
    """Create a PENDING logged model."""
    args = parse(schemas.LoggedModelCreateSchema())
    record = store.create_logged_model(
        args["experiment_id"],
        args["name"],
        args["model_type"],
        args["source_run_id"],
        to_dict(args["params"]),
        to_dict(args["tags"]),
    )
    return _model(record)


@bp.get("/<model_id>")
def get(model_id: str) -> Response:
    """One logged model."""
    return _model(store.get_logged_model(model_id))


@bp.patch("/<model_id>")
def finalize(model_id: str) -> Response:
    """Set the model's final status (READY or UPLOAD_FAILED)."""
    args = parse(schemas.LoggedModelFinalizeSchema())
    return _model(store.finalize_logged_model(model_id, args["status"]))


@bp.delete("/<model_id>")
def delete(model_id: str) -> Response:
    """Soft-delete a logged model."""
    store.delete_logged_model(model_id)
    return jsonify({})


@bp.patch("/<model_id>/tags")
def set_tags(model_id: str) -> Response:
    """Set tags on a logged model."""
    args = parse(schemas.LoggedModelTagsSchema())
    store.set_logged_model_tags(model_id, to_dict(args["tags"]))
    return jsonify({})


@bp.delete("/<model_id>/tags/<path:tag_key>")
def delete_tag(model_id: str, tag_key: str) -> Response:
    """Remove a tag from a logged model."""
    store.delete_logged_model_tag(model_id, tag_key)
    return jsonify({})


@bp.post("/<model_id>/params")
def log_params(model_id: str) -> Response:
    """Add params to a logged model."""
    args = parse(schemas.LoggedModelParamsSchema())
    store.log_logged_model_params(model_id, to_dict(args["params"]))
    return jsonify({})


@bp.post("/search")
def search() -> Response:
    """A page of logged models matching a filter."""
    args = parse(schemas.LoggedModelSearchSchema())
    records, token = store.search_logged_models(
        args["experiment_ids"],
        args["filter"],
        args["order_by"],
        args["max_results"],
        args["page_token"],
    )
    return jsonify(
        shaped(
            rs.LOGGED_MODELS, models=[logged_model_json(r) for r in records], next_page_token=token
        )
    )


@bp.get("/<model_id>/artifacts/directories")
def list_artifacts(model_id: str) -> Response:
    """The direct children of a directory inside the model's artifacts."""
    model = store.get_logged_model(model_id).model
    path = request.args.get("artifact_directory_path") or ""
    default = f"{model.experiment_id}/models/{model_id}/artifacts"
    return artifact_listing(model.artifact_uri, default, path)
