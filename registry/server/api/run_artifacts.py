"""``GET /api/2.0/mlflow/artifacts/list``: a run's artifacts, paths relative to the run root."""

from __future__ import annotations

from flask import Blueprint, Response

from registry.server.api import API_PREFIX, artifact_listing, parse
from registry.store.runs import get_run_row
from registry.wire import tracking as schemas

bp = Blueprint("api_run_artifacts", __name__, url_prefix=API_PREFIX)


@bp.get("/artifacts/list")
def list_artifacts() -> Response:
    """The direct children of ``path`` inside the run's artifact directory."""
    args = parse(schemas.ListArtifactsSchema())
    run = get_run_row(args["run_id"])
    default = f"{run.experiment_id}/{run.run_uuid}/artifacts"
    return artifact_listing(run.artifact_uri, default, args["path"])
