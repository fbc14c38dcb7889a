"""The JSON API: one blueprint module per resource, each exposing ``bp``.

Helpers here are what every view uses: the shared state, and parsing a request with a schema
the same way whether MLflow's client sent it as query parameters (GET) or a JSON body.
"""

from __future__ import annotations

import base64
import binascii
import posixpath
from typing import Any

from flask import Response, current_app, jsonify, request
from marshmallow import Schema, ValidationError, fields

from registry.artifacts import ArtifactStore
from registry.artifacts.paths import safe_relative_path
from registry.config import Config
from registry.errors import BadRequest, InvalidParameter
from registry.server.hardening import current_principal
from registry.wire.artifacts import ArtifactListing, FileInfo

API_PREFIX = "/api/2.0/mlflow"
OUR_PREFIX = "/api/2.0/modelyard"
"""Endpoints MLflow does not have (history, rollback, lineage) live under this prefix."""
USER_HEADER = "X-Modelyard-User"


def state() -> Any:
    """The ``ServerState`` built by ``create_app``."""
    return current_app.extensions["registry"]


def config() -> Config:
    """The server's Config."""
    cfg: Config = state().config
    return cfg


def artifact_store() -> ArtifactStore:
    """The server's artifact store."""
    store: ArtifactStore = state().artifacts
    return store


def parse(schema: Schema) -> dict[str, Any]:
    """Load the request's arguments with ``schema``.

    GET requests (and bodiless DELETEs) read query parameters, with repeated keys for list
    fields; everything else reads a JSON object body.

    Raises:
        BadRequest: the body is not a JSON object.
        InvalidParameter: a field is missing or has the wrong type (``details`` says which).
    """
    if request.method == "GET" or (request.method == "DELETE" and not request.content_length):
        raw: dict[str, Any] = {}
        for key in request.args:
            field = schema.fields.get(key)
            if isinstance(field, fields.List):
                raw[key] = request.args.getlist(key)
            else:
                raw[key] = request.args.get(key)
        return _load(schema, raw)
    body = request.get_json(force=True, silent=True)
    if body is None and request.content_length:
        raise BadRequest("Malformed request body: it is not valid JSON.")
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise BadRequest("The request body must be a JSON object.")
    return _load(schema, body)


def _load(schema: Schema, raw: dict[str, Any]) -> dict[str, Any]:
    try:
        return schema.load(raw)  # type: ignore[no-any-return]
    except ValidationError as err:
        raise invalid_request(err) from None


def invalid_request(err: ValidationError) -> InvalidParameter:
    """The API's error for a request a schema refused: every field's reason, in ``details``."""
    messages = err.messages if isinstance(err.messages, dict) else {"_schema": err.messages}
    summary = "; ".join(f"{field}: {_flatten(msg)}" for field, msg in messages.items())
    return InvalidParameter(f"Invalid request: {summary}", **messages)


def _flatten(message: Any) -> str:
    if isinstance(message, list):
        return " ".join(_flatten(m) for m in message)
    if isinstance(message, dict):
        return "; ".join(f"{k}: {_flatten(v)}" for k, v in message.items())
    return str(message)


def request_user() -> str:
    """Who is asking, as recorded in the model history.

    Under ``--auth`` it is the authenticated user (or "" when anonymous): a header cannot name
    somebody else. Without auth, nobody is authenticated, so the ``X-Modelyard-User`` header, else
    the basic-auth user name, names the caller.
    """
    if state().config.auth:
        principal = current_principal()
        return principal.username if principal is not None else ""
    user = request.headers.get(USER_HEADER, "").strip()
    if user:
        return user[:256]
    auth = request.headers.get("Authorization", "")
    if auth.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(auth[6:].strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return ""
        return decoded.split(":", 1)[0][:256]
    return ""


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
    files = [
        FileInfo(posixpath.join(relative, e.path), e.is_dir, None if e.is_dir else e.file_size)
        for e in artifact_store().list(prefix)
    ]
    return jsonify(ArtifactListing.Schema().dump(ArtifactListing(root_uri, tuple(files))))
