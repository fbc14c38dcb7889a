"""MLflow's ``/graphql`` endpoint: the request and answer around a GraphQL document.

The types inside ``data`` are not declared here: the GraphQL schema derives those that mirror a
REST entity from the entities of this package (``registry/server/graphql``).
"""

from __future__ import annotations

from marshmallow import fields

from registry.wire.base import RequestSchema
from registry.wire.responses import body


class GraphQLRequestSchema(RequestSchema):
    """One GraphQL request: a document, its variables, and which operation of it to run."""

    query = fields.String(required=True, metadata={"description": "The GraphQL document."})
    variables = fields.Dict(load_default=None, allow_none=True)
    operation_name = fields.String(data_key="operationName", load_default=None, allow_none=True)


GRAPHQL_RESPONSE = body(
    "GraphQLResponse",
    data=fields.Dict(
        allow_none=True,
        metadata={"description": "The selected fields; a field that failed is null."},
    ),
    errors=fields.List(
        fields.String(),
        allow_none=True,
        metadata={"description": "MLflow's form: each error's message, or null when none."},
    ),
)
"""``{data, errors}``, both always present, as MLflow answers (errors are plain messages)."""
