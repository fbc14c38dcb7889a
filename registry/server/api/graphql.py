"""``/graphql``: MLflow's GraphQL endpoint (its web UI reads runs, metrics and artifacts here).

GET and POST, as MLflow takes them: a JSON body ``{query, variables, operationName}`` (GET
also takes them as query parameters, ``variables`` as JSON text). One document per request: a
JSON list of requests (batching) is refused, as MLflow does not run them.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, jsonify, request
from marshmallow import ValidationError

from registry.errors import BadRequest, UnsupportedMediaType
from registry.server.api import invalid_request
from registry.server.graphql.execution import run_document
from registry.wire.graphql import GRAPHQL_RESPONSE, GraphQLRequestSchema
from registry.wire.responses import shaped

bp = Blueprint("graphql", __name__)


@bp.route("/graphql", methods=["GET", "POST"])
def query() -> Response:
    """Run one GraphQL document; answers ``{data, errors}`` (errors as MLflow's messages).

    Raises:
        BadRequest: the body is not a JSON object (a list of requests included).
        InvalidParameter: no ``query``, or ``variables`` that are not an object.
        UnsupportedMediaType: a POST that is not ``application/json``.
    """
    try:
        args = GraphQLRequestSchema().load(_request_fields())
    except ValidationError as err:
        raise invalid_request(err) from None
    data, errors = run_document(args["query"], args["variables"], args["operation_name"])
    return jsonify(shaped(GRAPHQL_RESPONSE, data=data, errors=errors))


def _request_fields() -> dict[str, Any]:
    if request.method == "GET" and "query" in request.args:
        fields: dict[str, Any] = request.args.to_dict()
        if "variables" in fields:
            try:
                fields["variables"] = json.loads(fields["variables"])
            except ValueError:
                raise BadRequest("The variables parameter is not valid JSON.") from None
        return fields
    if request.method == "POST" and request.mimetype != "application/json":
        raise UnsupportedMediaType(
            "GraphQL requests are JSON: send Content-Type: application/json "
            f"(got {request.mimetype or 'none'!r})."
        )
    body = request.get_json(force=True, silent=True)
    if isinstance(body, list):
        raise BadRequest("Batched GraphQL requests are not supported: send one per request.")
    if not isinstance(body, dict):
        raise BadRequest("The request body must be a JSON object with a GraphQL query.")
    return body
