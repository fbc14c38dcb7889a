"""The JSON API: one blueprint module per resource, each exposing ``bp``.

Helpers here are what every view uses: the shared state, and parsing a request with a schema
the same way whether MLflow's client sent it as query parameters (GET) or a JSON body.
"""

from __future__ import annotations

import base64
import binascii
import json
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
        raise invalid_request(err, raw) from None


def invalid_request(err: ValidationError, raw: Any = None) -> InvalidParameter:
    """The API's error for a request a schema refused, in MLflow's words.

    The one place a schema's refusal becomes an error body. The message names the first
    refused field as MLflow's server does (``Missing value for required parameter 'run_id'``,
    ``Invalid value 123 for parameter 'name' supplied:  Hint: Value was of type 'int'``, nested
    fields as ``metrics[0].value``); ``details`` keeps every field's reason.

    Args:
        err: what the schema raised.
        raw: the arguments it was given (``err.data`` when omitted).
    """
    messages = err.messages if isinstance(err.messages, dict) else {"_schema": err.messages}
    data = err.data if raw is None else raw
    return InvalidParameter(mlflow_message(messages, data), **messages)


_API_DOCS_HINT = " See the API docs for more information about request parameters."
_TYPE_ERRORS = ("Not a valid", "Expected", "Invalid input type")
"""How our fields' type errors begin (marshmallow's own and ``registry.wire.fields``')."""
_ABSENT = object()


def mlflow_message(messages: dict[Any, Any], data: Any) -> str:
    """MLflow's message for the first refused field of ``messages`` (marshmallow's error dict).

    An absent, null or empty value is missing; a value of the wrong type gets MLflow's type
    hint; any other refusal says why, after MLflow's ``Invalid value ... supplied:``.
    """
    path, value, reason = _first_problem(messages, data, "")
    if not path:
        return reason
    if value is _ABSENT or value is None or value == "":
        return f"Missing value for required parameter '{path}'.{_API_DOCS_HINT}"
    shown = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    if reason.startswith(_TYPE_ERRORS):
        reason = f" Hint: Value was of type '{type(value).__name__}'."
    return f"Invalid value {shown} for parameter '{path}' supplied: {reason}{_API_DOCS_HINT}"


def _first_problem(messages: Any, data: Any, path: str) -> tuple[str, Any, str]:
    """``(json path, raw value, reason)`` of the first error in a (nested) error dict."""
    if isinstance(messages, dict) and messages:
        key, inner = next(iter(messages.items()))
        if key == "_schema":
            return _first_problem(inner, data, path)
        if isinstance(key, int):
            sub = data[key] if isinstance(data, list) and 0 <= key < len(data) else _ABSENT
            return _first_problem(inner, sub, f"{path}[{key}]")
        sub = data.get(key, _ABSENT) if isinstance(data, dict) else _ABSENT
        return _first_problem(inner, sub, f"{path}.{key}" if path else str(key))
    if isinstance(messages, list) and messages:
        first = messages[0]
        if isinstance(first, dict | list):
            return _first_problem(first, data, path)
        return path, data, str(first)
    return path, data, str(messages)


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
