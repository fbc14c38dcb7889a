"""Marshmallow schemas: request parsing and response shapes, one module per resource."""
