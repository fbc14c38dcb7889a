"""The Open Inference Protocol's model repository extension (Triton's and MLServer's shape).

``POST /v2/repository/index`` lists every model with its state; ``.../models/{name}/load``
loads a model again, or adds one given ``{"parameters": {"uri": "models:/..."}}``;
``.../models/{name}/unload`` stops serving one. Load and unload change what the process
serves, so they answer 403 unless the process runs with ``--allow-repository-changes``, and
need ``Authorization: Bearer <SERVING_REPOSITORY_TOKEN>`` when that token is set. The index
shows no more than ``/v2/models/{name}`` does, and is open as predictions are.
"""

from __future__ import annotations

import hmac
from typing import Any

from flask import Blueprint, Response, request

from registry.errors import BadRequest, PermissionDenied, Unauthenticated
from serving.api import request_body, state
from serving.protocols import jsoncodec
from serving.protocols.mlflow import CONTENT_TYPE_JSON

bp = Blueprint("repository", __name__, url_prefix="/v2/repository")

ADDED_URI_PREFIXES = ("models:/", "runs:/")
"""What a load may add: registry URIs only, never a path on the serving host."""


def _json(body: Any) -> Response:
    return Response(jsoncodec.dumps(body), mimetype=CONTENT_TYPE_JSON)


def _document() -> dict[str, Any]:
    body = request_body()
    if not body.strip():
        return {}
    try:
        document = jsoncodec.loads(body)
    except jsoncodec.JSONDecodeError:
        raise BadRequest("The body is not valid JSON.") from None
    if not isinstance(document, dict):
        raise BadRequest("The body must be a JSON object.")
    return document


def _check_allowed() -> None:
    config = state().config
    if not config.allow_repository_changes:
        raise PermissionDenied(
            "Model repository changes are off; start modelyard serve with"
            " --allow-repository-changes to allow load and unload."
        )
    token = config.repository_token.strip()  # a Secret file's trailing newline is no part of it
    if token:
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            given.strip().encode(), token.encode()
        ):
            raise Unauthenticated("Load and unload need 'Authorization: Bearer <token>'.")


@bp.post("/index")
def index() -> Response:
    """``[{"name", "version", "state", "reason"}]``; ``{"ready": true}`` lists ready ones only."""
    ready_only = _document().get("ready") is True
    rows = [r for r in state().table.index() if not ready_only or r["state"] == "READY"]
    return _json(rows)


@bp.post("/models/<name>/load")
def load(name: str) -> Response:
    """Load ``name`` in every worker (this one before answering), or add it at a given URI."""
    _check_allowed()
    parameters = _document().get("parameters") or {}
    uri = parameters.get("uri") if isinstance(parameters, dict) else None
    if uri is not None and (not isinstance(uri, str) or not uri.startswith(ADDED_URI_PREFIXES)):
        raise BadRequest("parameters.uri must be a models:/ or runs:/ URI.")
    loaded = state().table.load(name, uri)
    return _json({"name": name, "version": loaded.version, "state": "READY"})


@bp.post("/models/<name>/unload")
def unload(name: str) -> Response:
    """Stop serving ``name`` in every worker; it stays in the index and may be loaded again."""
    _check_allowed()
    state().table.unload(name)
    return _json({"name": name, "state": "UNAVAILABLE"})
