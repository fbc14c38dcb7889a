"""``/model-versions/*``: MLflow's model-version endpoints."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from registry.server.api import API_PREFIX, OUR_PREFIX, artifact_store, config, parse, request_user
from registry.services import stages, versions
from registry.services.listings import describe_versions
from registry.store import model_versions as store
from registry.store.registry_search import search_model_versions
from registry.wire import responses as rs
from registry.wire.registry import (
    SearchSchema,
    TransitionSchema,
    VersionCreateSchema,
    VersionDeleteTagSchema,
    VersionDescriptionSchema,
    VersionSchema,
    VersionSetTagSchema,
    tag_pairs,
)
from registry.wire.responses import shaped

bp = Blueprint("model_versions", __name__)
_BASE = f"{API_PREFIX}/model-versions"


def _version(name: str, number: int) -> Response:
    found = store.get_model_version(name, number)
    return jsonify(shaped(rs.MODEL_VERSION, model_version=describe_versions([found])[0]))


@bp.post(f"{_BASE}/create")
def create() -> Response:
    """Register the next version of a model (always ``READY``)."""
    args = parse(VersionCreateSchema())
    found = versions.register_version(
        args["name"],
        args["source"],
        config(),
        run_id=args["run_id"],
        model_id=args["model_id"],
        run_link=args["run_link"],
        description=args["description"],
        user_id=request_user(),
        tags=tag_pairs(args["tags"]),
        artifacts=artifact_store(),
    )
    return jsonify(shaped(rs.MODEL_VERSION, model_version=describe_versions([found])[0]))


@bp.get(f"{_BASE}/get")
def get() -> Response:
    """One version (400 for a non-integer version, 404 for an unknown one)."""
    args = parse(VersionSchema())
    return _version(args["name"], versions.parse_version(args["version"]))


@bp.patch(f"{_BASE}/update")
def update() -> Response:
    """Replace a version's description."""
    args = parse(VersionDescriptionSchema())
    number = versions.parse_version(args["version"])
    store.update_model_version(args["name"], number, args["description"], user_id=request_user())
    return _version(args["name"], number)


@bp.delete(f"{_BASE}/delete")
def delete() -> Response:
    """Delete a version; aliases that pointed at it go too."""
    args = parse(VersionSchema())
    versions.delete_version(args["name"], versions.parse_version(args["version"]), request_user())
    return jsonify({})


@bp.post(f"{_BASE}/transition-stage")
def transition_stage() -> Response:
    """Move a version to a stage (serialised per model, recorded in the history)."""
    args = parse(TransitionSchema())
    found = stages.transition_stage(
        args["name"],
        versions.parse_version(args["version"]),
        args["stage"],
        archive_existing_versions=args["archive_existing_versions"],
        user_id=request_user(),
        comment=args["comment"],
    )
    return jsonify(shaped(rs.MODEL_VERSION, model_version=describe_versions([found])[0]))


@bp.get(f"{_BASE}/search")
def search() -> Response:
    """Model versions matching MLflow's filter grammar, paged."""
    args = parse(SearchSchema())
    found, token = search_model_versions(
        args["filter"], args["order_by"], args["max_results"], args["page_token"]
    )
    found_versions = describe_versions(found)
    return jsonify(
        shaped(rs.MODEL_VERSIONS_PAGE, model_versions=found_versions, next_page_token=token)
    )


@bp.get(f"{_BASE}/get-download-uri")
def get_download_uri() -> Response:
    """Where the version's files are."""
    args = parse(VersionSchema())
    found = store.get_model_version(args["name"], versions.parse_version(args["version"]))
    return jsonify(shaped(rs.DOWNLOAD_URI, artifact_uri=versions.download_uri(found)))


@bp.get(f"{OUR_PREFIX}/model-versions/get-digest")
def get_digest() -> Response:
    """Ours: the digest of the version's model directory, recorded by the server at registration.

    ``model_digest`` is ``sha256:<hex>`` over every file of the directory (see
    docs/model-trust.md), or null for a version registered before digests or without files.
    """
    args = parse(VersionSchema())
    number = versions.parse_version(args["version"])
    digest = versions.version_digest(args["name"], number)
    return jsonify(shaped(rs.DIGEST, name=args["name"], version=str(number), model_digest=digest))


@bp.post(f"{_BASE}/set-tag")
def set_tag() -> Response:
    """Set a tag on a version."""
    args = parse(VersionSetTagSchema())
    number = versions.parse_version(args["version"])
    store.set_model_version_tag(
        args["name"], number, args["key"], args["value"], user_id=request_user()
    )
    return jsonify({})


@bp.delete(f"{_BASE}/delete-tag")
def delete_tag() -> Response:
    """Remove a tag from a version."""
    args = parse(VersionDeleteTagSchema())
    number = versions.parse_version(args["version"])
    store.delete_model_version_tag(args["name"], number, args["key"], user_id=request_user())
    return jsonify({})
