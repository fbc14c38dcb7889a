"""The JSON API: one blueprint module per resource, each exposing ``bp``.

Helpers here are what every view uses: the shared state, and parsing a request with a schema
the same way whether MLflow's client sent it as query parameters (GET) or a JSON body.
"""

from __future__ import annotations

from typing import Any

import peewee
from flask import current_app, request
from marshmallow import Schema, fields

from registry.artifacts import ArtifactStore
from registry.config import Config
from registry.errors import BadRequest

API_PREFIX = "/api/2.0/mlflow"
OUR_PREFIX = "/api/2.0/modelyard"
"""Endpoints MLflow does not have (history, rollback, lineage) live under this prefix."""


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


def database() -> peewee.Database:
    """The bound database."""
    return state().database  # type: ignore[no-any-return]


def parse(schema: Schema) -> dict[str, Any]:
    """Load the request's arguments with ``schema``.

    GET requests (and bodiless DELETEs) read query parameters, with repeated keys for list
    fields; everything else reads a JSON object body.

    Raises:
        BadRequest: the body is not a JSON object.
        marshmallow.ValidationError: a field is missing or has the wrong type.
    """
    if request.method == "GET" or (request.method == "DELETE" and not request.content_length):
        raw: dict[str, Any] = {}
        for key in request.args:
            field = schema.fields.get(key)
            if isinstance(field, fields.List):
                raw[key] = request.args.getlist(key)
            else:
                raw[key] = request.args.get(key)
        return schema.load(raw)  # type: ignore[no-any-return]
    body = request.get_json(force=True, silent=True)
    if body is None and request.content_length:
        raise BadRequest("Malformed request body: it is not valid JSON.")
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise BadRequest("The request body must be a JSON object.")
    return schema.load(body)  # type: ignore[no-any-return]
