"""``/registered-models/*``: MLflow's registered-model endpoints, plus our exclusive-stages flag."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from registry.server.api import API_PREFIX, OUR_PREFIX, parse, request_user
from registry.services import aliases, stages
from registry.services.listings import describe_models, describe_versions, latest_of
from registry.services.versions import parse_version
from registry.store import registered_models as store
from registry.store.registry_search import search_registered_models
from registry.wire import responses as rs
from registry.wire.registry import (
    AliasSchema,
    DeleteTagSchema,
    DescriptionSchema,
    ExclusiveStagesSchema,
    LatestVersionsSchema,
    NameSchema,
    RegisteredModelCreateSchema,
    RenameSchema,
    SearchSchema,
    SetAliasSchema,
    SetTagSchema,
    tag_pairs,
)
from registry.wire.responses import shaped

bp = Blueprint("registered_models", __name__)
_BASE = f"{API_PREFIX}/registered-models"


def _model(name: str) -> Response:
    model = store.get_registered_model(name)
    return jsonify(shaped(rs.REGISTERED_MODEL, registered_model=describe_models([model])[0]))


@bp.post(f"{_BASE}/create")
def create() -> Response:
    """Create a registered model (400 RESOURCE_ALREADY_EXISTS when the name is taken)."""
    args = parse(RegisteredModelCreateSchema())
    model = store.create_registered_model(
        args["name"],
        description=args["description"],
        tags=tag_pairs(args["tags"]),
        user_id=request_user(),
        exclusive_stages=args["exclusive_stages"],
    )
    return jsonify(shaped(rs.REGISTERED_MODEL, registered_model=describe_models([model])[0]))


@bp.get(f"{_BASE}/get")
def get() -> Response:
    """A registered model with its latest versions per stage, tags and aliases."""
    return _model(parse(NameSchema())["name"])


@bp.post(f"{_BASE}/rename")
def rename() -> Response:
    """Rename a registered model."""
    args = parse(RenameSchema())
    model = store.rename_registered_model(args["name"], args["new_name"], user_id=request_user())
    return _model(model.name)


@bp.patch(f"{_BASE}/update")
def update() -> Response:
    """Replace a registered model's description."""
    args = parse(DescriptionSchema())
    store.update_registered_model(args["name"], args["description"], user_id=request_user())
    return _model(args["name"])


@bp.delete(f"{_BASE}/delete")
def delete() -> Response:
    """Delete a registered model and everything under it."""
    store.delete_registered_model(parse(NameSchema())["name"], user_id=request_user())
    return jsonify({})


@bp.get(f"{_BASE}/search")
def search() -> Response:
    """Registered models matching MLflow's filter grammar, paged."""
    args = parse(SearchSchema())
    found, token = search_registered_models(
        args["filter"], args["order_by"], args["max_results"], args["page_token"]
    )
    models = describe_models(found)
    return jsonify(shaped(rs.REGISTERED_MODELS, registered_models=models, next_page_token=token))


@bp.route(f"{_BASE}/get-latest-versions", methods=["GET", "POST"])
def get_latest_versions() -> Response:
    """The newest version in each requested stage (every stage when none is given)."""
    args = parse(LatestVersionsSchema())
    wanted = [stages.normalize_stage(s) for s in args["stages"]] or None
    found = latest_of(store.get_registered_model(args["name"]), wanted)
    return jsonify(
        shaped(rs.MODEL_VERSIONS, model_versions=describe_versions(found, with_aliases=True))
    )


@bp.post(f"{_BASE}/set-tag")
def set_tag() -> Response:
    """Set a tag on a registered model."""
    args = parse(SetTagSchema())
    store.set_registered_model_tag(args["name"], args["key"], args["value"], user_id=request_user())
    return jsonify({})


@bp.delete(f"{_BASE}/delete-tag")
def delete_tag() -> Response:
    """Remove a tag from a registered model."""
    args = parse(DeleteTagSchema())
    store.delete_registered_model_tag(args["name"], args["key"], user_id=request_user())
    return jsonify({})


@bp.post(f"{_BASE}/alias")
def set_alias() -> Response:
    """Point an alias at a version (moving it if it exists); recorded in the history."""
    args = parse(SetAliasSchema())
    version = parse_version(args["version"])
    aliases.set_alias(
        args["name"], args["alias"], version, user_id=request_user(), comment=args["comment"]
    )
    return jsonify({})


@bp.delete(f"{_BASE}/alias")
def delete_alias() -> Response:
    """Remove an alias; recorded in the history."""
    args = parse(AliasSchema())
    aliases.delete_alias(
        args["name"], args["alias"], user_id=request_user(), comment=args["comment"]
    )
    return jsonify({})


@bp.get(f"{_BASE}/alias")
def get_by_alias() -> Response:
    """The version an alias points at (400 when the alias does not exist, as MLflow)."""
    args = parse(AliasSchema())
    found, names = aliases.resolve_alias(args["name"], args["alias"])
    body = describe_versions([found])[0]
    body["aliases"] = names
    return jsonify(shaped(rs.MODEL_VERSION, model_version=body))


@bp.post(f"{OUR_PREFIX}/registered-models/exclusive-stages")
def set_exclusive_stages() -> Response:
    """Ours: turn the one-holder rule for Staging and Production on or off."""
    args = parse(ExclusiveStagesSchema())
    model = stages.set_exclusive_stages(
        args["name"], args["exclusive_stages"], user_id=request_user()
    )
    return _model(model.name)
