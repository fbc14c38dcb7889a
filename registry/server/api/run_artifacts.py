"""``GET /api/2.0/mlflow/artifacts/list``: a run's artifacts, paths relative to the run root."""

from __future__ import annotations

import posixpath

from flask import Blueprint, Response, jsonify

from registry.errors import InvalidParameter
from registry.schemas import tracking as schemas
from registry.server.api import API_PREFIX, artifact_store, parse
from registry.store.runs import get_run_row

bp = Blueprint("api_run_artifacts", __name__, url_prefix=API_PREFIX)


def run_artifact_root(artifact_uri: str, default: str) -> str:
    """The artifact-store prefix behind an ``mlflow-artifacts:/`` URI (``default`` otherwise)."""
    scheme = "mlflow-artifacts:/"
    return artifact_uri[len(scheme) :].strip("/") if artifact_uri.startswith(scheme) else default


@bp.get("/artifacts/list")
def list_artifacts() -> Response:
    """The direct children of ``path`` inside the run's artifact directory."""
    args = parse(schemas.ListArtifactsSchema())
    run = get_run_row(args["run_id"])
    path = args["path"].strip("/")
    if path and (path.startswith("/") or ".." in path.split("/")):
        raise InvalidParameter(f"Invalid artifact path {args['path']!r}")
    root = run_artifact_root(run.artifact_uri, f"{run.experiment_id}/{run.run_uuid}/artifacts")
    prefix = f"{root}/{path}" if path else root
    files = []
    for entry in artifact_store().list(prefix):
        item: dict[str, object] = {"path": posixpath.join(path, entry.path), "is_dir": entry.is_dir}
        if not entry.is_dir and entry.file_size is not None:
            item["file_size"] = entry.file_size
        files.append(item)
    body: dict[str, object] = {"root_uri": run.artifact_uri}
    if files:
        body["files"] = files
    return jsonify(body)
