"""MLflow's GraphQL endpoint: its schema, its limits, and a document run against the store.

``schema.graphql`` holds what is GraphQL's own (root fields, inputs, enums); ``mirrors`` derives
the types that mirror REST entities from ``registry.wire``; ``reads`` answers the root fields
through the same store reads and rules as the REST endpoints; ``execution`` runs one request.
The view is ``registry/server/api/graphql.py``.
"""
