"""Ours: where a model version came from, and which versions a run produced."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from registry.server.api import OUR_PREFIX, parse
from registry.services.lineage import version_lineage
from registry.services.listings import describe_versions
from registry.services.versions import parse_version
from registry.store.model_versions import versions_for_run
from registry.wire import responses as rs
from registry.wire.registry import RunIdSchema, VersionSchema
from registry.wire.responses import shaped

bp = Blueprint("lineage", __name__)


@bp.get(f"{OUR_PREFIX}/model-versions/lineage")
def lineage() -> Response:
    """A version with its run (params, metrics, tags, datasets) and logged model, in one call."""
    args = parse(VersionSchema())
    found, parts = version_lineage(args["name"], parse_version(args["version"]))
    return jsonify(shaped(rs.LINEAGE, model_version=describe_versions([found])[0], **parts))


@bp.get(f"{OUR_PREFIX}/model-versions/by-run")
def by_run() -> Response:
    """Every version registered from a run."""
    run_id = parse(RunIdSchema())["run_id"]
    return jsonify(
        shaped(rs.MODEL_VERSIONS, model_versions=describe_versions(versions_for_run(run_id)))
    )
