"""``GET /api/2.0/mlflow/artifacts/list``: a run's artifacts, paths relative to the run root."""

from __future__ import annotations

import posixpath

from flask import Blueprint, Response, jsonify

from registry.artifacts.paths import safe_relative_path
from registry.schemas import tracking as schemas
from registry.server.api import API_PREFIX, artifact_store, parse
from registry.store.runs import get_run_row

bp = Blueprint("api_run_artifacts", __name__, url_prefix=API_PREFIX)


def run_artifact_root(artifact_uri: str, default: str) -> str:
    """The artifact-store prefix behind an ``mlflow-artifacts:/`` URI (``default`` otherwise)."""
    scheme = "mlflow-artifacts:/"
    return artifact_uri[len(scheme) :].strip("/") if artifact_uri.startswith(scheme) else default


def artifact_listing(root_uri: str, default_root: str, path: str) -> Response:
    """MLflow's ``{root_uri, files}`` listing of ``path`` under an artifact root.

    Raises:
        InvalidParameter: ``path`` could leave the root (checked by the artifact path gate).
    """
    relative = safe_relative_path(path.strip("/"))
    root = run_artifact_root(root_uri, default_root)
    prefix = f"{root}/{relative}" if relative else root
    files = []
    for entry in artifact_store().list(prefix):
        item: dict[str, object] = {
            "path": posixpath.join(relative, entry.path),
            "is_dir": entry.is_dir,
        }
        if not entry.is_dir and entry.file_size is not None:
            item["file_size"] = entry.file_size
        files.append(item)
    body: dict[str, object] = {"root_uri": root_uri}
    if files:
        body["files"] = files
    return jsonify(body)


@bp.get("/artifacts/list")
def list_artifacts() -> Response:
    """The direct children of ``path`` inside the run's artifact directory."""
    args = parse(schemas.ListArtifactsSchema())
    run = get_run_row(args["run_id"])
    default = f"{run.experiment_id}/{run.run_uuid}/artifacts"
    return artifact_listing(run.artifact_uri, default, args["path"])
