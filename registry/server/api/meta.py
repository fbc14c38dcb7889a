"""Health, version and server-info: the endpoints clients probe before real work."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from registry import __version__
from registry.models.mlmodel import MLFLOW_VERSION

bp = Blueprint("meta", __name__)

MLFLOW_PROTOCOL_VERSION = MLFLOW_VERSION
"""The MLflow release whose REST protocol this server implements (the one whose MLmodel files we
write), reported where MLflow reports its own version (``/version``): MLflow's client gates
features on it (span logging needs 3.4)."""
VERSION_HEADER = "X-Modelyard-Version"
_OURS = {VERSION_HEADER: __version__}


@bp.get("/health")
def health() -> Response:
    """``OK`` as text, as MLflow's server answers."""
    return Response("OK", mimetype="text/plain")


@bp.get("/version")
def version() -> Response:
    """The MLflow protocol version the server implements, as text (MLflow answers its version).

    Modelyard's own version is in the ``X-Modelyard-Version`` header.
    """
    return Response(MLFLOW_PROTOCOL_VERSION, mimetype="text/plain", headers=_OURS)


@bp.get("/api/3.0/mlflow/server-info")
def server_info() -> Response:
    """Capabilities: plain PUT/GET transfers only (no multipart, no presigned URLs)."""
    reply = jsonify(
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
    reply.headers.update(_OURS)
    return reply
