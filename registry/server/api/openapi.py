"""``GET /api/2.0/modelyard/openapi.json``: the OpenAPI document of every JSON route.

Paths and methods come from ``app.url_map``, summaries from the views' docstrings, and request
and response shapes (the ``registry.wire`` schemas) from ``registry.server.openapi_operations``.
The document is built on the first request and kept for the life of the app.
"""

from __future__ import annotations

import inspect
import json
import re
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from apispec.ext.marshmallow.openapi import OpenAPIConverter
from flask import Blueprint, Flask, Response, current_app
from marshmallow import Schema, fields
from werkzeug.routing import AnyConverter, IntegerConverter, Rule

from registry import __version__
from registry.server.api import OUR_PREFIX
from registry.server.openapi_operations import JSON_MEDIA, OPERATIONS, Operation
from registry.wire import tracking
from registry.wire.base import KeyValueSchema, ResponseSchema
from registry.wire.fields import Double, EnumName, IdString, Int64, KeyValues
from registry.wire.registry import AliasMap
from registry.wire.responses import ErrorSchema
from registry.wire.tracking import MetricList

JSON = dict[str, Any]
OPENAPI_VERSION = "3.1.0"
_CACHE_KEY = "modelyard.openapi"
_SKIPPED_PACKAGE = "registry.server.ui"
_IGNORED_METHODS = frozenset({"HEAD", "OPTIONS"})
_PLACEHOLDER = re.compile(r"<(?:[^>]*:)?(\w+)>")
_RAW_SCHEMAS: dict[str, JSON] = {
    JSON_MEDIA: {"type": "object"},
    "text/plain": {"type": "string"},
    "application/octet-stream": {"type": "string", "format": "binary"},
}
_DOUBLE = 'A number; non-finite values are the strings "NaN", "Infinity" and "-Infinity".'
_DESCRIPTION = (
    "MLflow's REST API under `/api/2.0/mlflow/` and the artifact proxy under "
    "`/api/2.0/mlflow-artifacts/`, plus Modelyard's own endpoints under `/api/2.0/modelyard/`. "
    "GET endpoints read query parameters (repeat a key for a list); the others read a JSON "
    "object body. Every error is a JSON `Error`."
)

_ALIAS_ENTRY = ResponseSchema.from_dict(
    {"alias": fields.String(), "version": fields.String()}, name="AliasEntrySchema"
)

bp = Blueprint("openapi", __name__)


@bp.get(f"{OUR_PREFIX}/openapi.json")
def document() -> Response:
    """This OpenAPI document, built once per app from its routes."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    text = app.extensions.get(_CACHE_KEY)
    if text is None:
        text = json.dumps(build_document(app))
        app.extensions[_CACHE_KEY] = text
    return Response(text, mimetype=JSON_MEDIA)


def documented_rules(app: Flask) -> list[Rule]:
    """Every route of ``app`` except the web UI's pages and static files."""
    rules = [rule for rule in app.url_map.iter_rules() if _is_documented(app, rule.endpoint)]
    return sorted(rules, key=lambda r: (r.rule, r.endpoint))


def _is_documented(app: Flask, endpoint: str) -> bool:
    blueprint_name, _, view_name = endpoint.rpartition(".")
    blueprint = app.blueprints.get(blueprint_name)
    view = app.view_functions[endpoint]
    owner = blueprint.import_name if blueprint else getattr(view, "__module__", "")
    return view_name != "static" and not owner.startswith(_SKIPPED_PACKAGE)


def rule_methods(rule: Rule) -> list[str]:
    """The methods a rule documents (HEAD and OPTIONS are implied), lower-case."""
    return sorted(m.lower() for m in (rule.methods or set()) - _IGNORED_METHODS)


def openapi_path(rule: Rule) -> str:
    """The rule's path as an OpenAPI template: ``<path:key>`` becomes ``{key}``."""
    return _PLACEHOLDER.sub(r"{\1}", rule.rule)


def build_document(app: Flask) -> JSON:
    """The OpenAPI document of ``app``'s JSON routes."""
    plugin = MarshmallowPlugin(schema_name_resolver=_schema_name)
    spec = APISpec(
        title="Modelyard registry server",
        version=__version__,
        openapi_version=OPENAPI_VERSION,
        plugins=[plugin],
        info={"description": _DESCRIPTION},
    )
    _install_field_types(plugin)
    spec.components.schema("Error", schema=ErrorSchema)
    error = {"description": "An error.", "content": {JSON_MEDIA: {"schema": "Error"}}}
    spec.components.response("Error", error)
    for path, (rule, operations) in _paths(app).items():
        spec.path(path=path, operations=operations, parameters=_path_parameters(rule))
    return spec.to_dict()


def _paths(app: Flask) -> dict[str, tuple[Rule, JSON]]:
    # Several rules may share a path (one per method), each with its own endpoint.
    paths: dict[str, tuple[Rule, JSON]] = {}
    for rule in documented_rules(app):
        _, operations = paths.setdefault(openapi_path(rule), (rule, {}))
        methods = rule_methods(rule)
        for method in methods:
            operation_id = f"{rule.endpoint}.{method}" if len(methods) > 1 else rule.endpoint
            operations[method] = _operation(app, rule.endpoint, method, operation_id)
    return paths


def _schema_name(schema: type[Schema] | Schema) -> str:
    cls = schema if isinstance(schema, type) else type(schema)
    name = cls.__name__.removesuffix("Schema")
    module = cls.__module__
    if module.startswith("registry.wire.") and not issubclass(cls, ResponseSchema):
        return f"{module.rsplit('.', 1)[-1]}.{name}"
    return name


def _operation(app: Flask, endpoint: str, method: str, operation_id: str) -> JSON:
    spec = OPERATIONS.get(endpoint, Operation(response=None))
    summary, description = _docstring(app.view_functions[endpoint])
    operation: JSON = {
        "operationId": operation_id,
        "summary": spec.summary or summary,
        "tags": [endpoint.split(".")[0].removeprefix("api_") if "." in endpoint else "meta"],
        "responses": {str(spec.status): _response(spec), "default": "Error"},
    }
    if description:
        operation["description"] = description
    if spec.request is not None and method == "get":
        operation["parameters"] = [{"in": "query", "schema": spec.request}]
    elif spec.request is not None:
        content: JSON = {JSON_MEDIA: {"schema": spec.request}}
        operation["requestBody"] = {"required": True, "content": content}
    elif spec.request_media != JSON_MEDIA:
        content = {spec.request_media: {"schema": _RAW_SCHEMAS[spec.request_media]}}
        operation["requestBody"] = {"required": True, "content": content}
    return operation


def _response(spec: Operation) -> JSON:
    if spec.response is None:
        schema: Any = _RAW_SCHEMAS[spec.response_media]
        return {"description": "Success.", "content": {spec.response_media: {"schema": schema}}}
    description = (spec.response.__doc__ or "Success.").strip().splitlines()[0]
    return {"description": description, "content": {JSON_MEDIA: {"schema": spec.response}}}


def _docstring(view: Any) -> tuple[str, str]:
    # Raises: sections name Python classes, which mean nothing to an HTTP client.
    text = (inspect.getdoc(view) or "").replace("``", "`")
    summary, *paragraphs = text.split("\n\n")
    rest = [p for p in paragraphs if not p.startswith("Raises:")]
    return " ".join(summary.split()), "\n\n".join(rest)


def _path_parameters(rule: Rule) -> list[JSON]:
    parameters = []
    for name, converter in rule._converters.items():
        schema: JSON = {"type": "string"}
        description = ""
        if isinstance(converter, IntegerConverter):
            schema = {"type": "integer"}
        elif isinstance(converter, AnyConverter):
            schema["enum"] = sorted(converter.items)
        elif not converter.part_isolating:
            description = "A path: it may contain `/`."
        parameter: JSON = {"in": "path", "name": name, "required": True, "schema": schema}
        if description:
            parameter["description"] = description
        parameters.append(parameter)
    return parameters


def _install_field_types(plugin: MarshmallowPlugin) -> None:
    untyped: Any = plugin.converter  # set by APISpec; its methods carry no annotations
    untyped.map_to_openapi_type(IdString, "string", None)
    untyped.map_to_openapi_type(Int64, "integer", "int64")
    untyped.map_to_openapi_type(Double, ["number", "string"], "double")
    untyped.map_to_openapi_type(MetricList, "array", None)
    untyped.map_to_openapi_type(KeyValues, "array", None)
    untyped.map_to_openapi_type(AliasMap, "array", None)
    untyped.add_attribute_function(_custom_field_attributes)


def _custom_field_attributes(self: OpenAPIConverter, field: fields.Field[Any], **_: Any) -> JSON:
    if isinstance(field, EnumName):
        names = sorted(set(field.numbers.values()))
        return {"enum": [*names, None] if field.allow_none else names}
    if isinstance(field, Double):
        return {"description": _DOUBLE}
    untyped: Any = self
    if isinstance(field, MetricList):
        return {"items": untyped.resolve_nested_schema(tracking.MetricSchema)}
    if isinstance(field, KeyValues):
        return {"items": untyped.resolve_nested_schema(KeyValueSchema)}
    if isinstance(field, AliasMap):
        return {"items": untyped.resolve_nested_schema(_ALIAS_ENTRY)}
    if "schema" in field.metadata:
        return dict(untyped.resolve_nested_schema(field.metadata["schema"]))
    return {}
