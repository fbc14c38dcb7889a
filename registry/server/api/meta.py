"""Health, version and server-info: the endpoints clients probe before real work."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from registry import __version__

bp = Blueprint("meta", __name__)


@bp.get("/health")
def health() -> Response:
    """``OK`` as text, as MLflow's server answers."""
    return Response("OK", mimetype="text/plain")


@bp.get("/version")
def version() -> Response:
    """The server's version as text."""
    return Response(__version__, mimetype="text/plain")


@bp.get("/api/3.0/mlflow/server-info")
def server_info() -> Response:
    """Capabilities: plain PUT/GET transfers only (no multipart, no presigned URLs)."""
    return jsonify(
        {
            "store_type": "SqlStore",
            "workspaces_enabled": False,
            "trace_archival_enabled": False,
            "multipart_uploads_enabled": False,
            "multipart_downloads_enabled": False,
            "presigned_upload_run_id_supported": False,
            "presigned_upload_model_id_supported": False,
            "features_enabled": {},
        }
    )
