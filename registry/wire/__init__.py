"""The wire: every JSON shape of the HTTP API, declared once as marshmallow schemas.

The server parses requests and encodes responses with these schemas, the OpenAPI document is
built from them, and the client decodes its entities with them. This package imports neither
Flask nor peewee nor the store, so the client can use it.
"""
