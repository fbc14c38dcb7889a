"""Render docs/rest-api.md from the OpenAPI documents the two servers publish.

Run ``python docs/render_rest_reference.py`` from the repository root after changing a route or a
wire shape; ``--check`` exits 1 when docs/rest-api.md is out of date (what the doc test runs).
The registry server's document is read from a real app over a throwaway SQLite store, exactly as
``GET /api/2.0/modelyard/openapi.json`` answers it; the serving process's from its builder.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

JSON = dict[str, Any]
ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "docs" / "rest-api.md"
COMMAND = "python docs/render_rest_reference.py"
REGISTRY_OPENAPI_PATH = "/api/2.0/modelyard/openapi.json"
_METHOD_ORDER = ("get", "post", "put", "patch", "delete")
_REF = "#/components/schemas/"


def registry_document() -> JSON:
    """The registry server's OpenAPI document, as a fresh app over a temporary store serves it."""
    from registry.config import Config
    from registry.server.app import create_app

    with tempfile.TemporaryDirectory(prefix="modelyard-openapi-") as work:
        config = Config(
            database_url=f"sqlite:///{work}/openapi.db",
            artifact_root=f"{work}/artifacts",
            auto_migrate=True,
            serve_ui=False,
        )
        response = create_app(config).test_client().get(REGISTRY_OPENAPI_PATH)
        if response.status_code != 200:
            raise RuntimeError(f"{REGISTRY_OPENAPI_PATH} answered {response.status_code}")
        document: JSON = response.get_json()
    return document


def serving_document() -> JSON:
    """The serving process's OpenAPI document (``GET /openapi.json`` of ``modelyard serve``)."""
    from serving.openapi import openapi_document

    return openapi_document()


def render(registry: JSON, serving: JSON) -> str:
    """The whole reference page for the two documents."""
    lines = [
        "# REST API reference",
        "",
        "<!-- Generated from the servers' OpenAPI documents; do not edit by hand. -->",
        f"<!-- Regenerate with `{COMMAND}`. -->",
        "",
        "Rendered from the OpenAPI 3.1 documents the servers publish. The registry server's, at",
        f"`GET {REGISTRY_OPENAPI_PATH}`, covers MLflow's endpoints under `/api/2.0/mlflow/`, the",
        "artifact proxy under `/api/2.0/mlflow-artifacts/`, Modelyard's own endpoints under",
        "`/api/2.0/modelyard/` (history, holders, rollback, lineage, exclusive stages, audit), and",
        "`/health`, `/version`, `/api/3.0/mlflow/server-info` and `/metrics`; the web UI's pages",
        "are left out. The serving process's is at `GET /openapi.json`.",
        "",
        "```bash",
        f"curl -s http://localhost:5000{REGISTRY_OPENAPI_PATH} | jq '.paths | keys'",
        "```",
        "",
        "Each operation lists its query parameters (GET) or its JSON request body (everything",
        'else), its success body, and the shared error body `{"error_code", "message",',
        '"details"?}`. Load either document into Swagger UI, Redoc or Postman, or generate a',
        "client from it (`openapi-generator-cli generate -i openapi.json -g python`). Response",
        "objects are open: a later version may add fields, so clients should ignore fields they do",
        "not know. The behaviour behind each endpoint is described in the user guides",
        "([tracking](tracking.md), [registry](registry.md), [serving](serving.md)).",
        "",
        f"- [Registry server (`modelyard server`)](#{_slug('registry')})",
        f"- [Serving (`modelyard serve`)](#{_slug('serving')})",
        "",
    ]
    lines += _render_document("registry", "Registry server (`modelyard server`)", registry)
    lines += _render_document("serving", "Serving (`modelyard serve`)", serving)
    return "\n".join(lines).rstrip() + "\n"


def _render_document(key: str, title: str, document: JSON) -> list[str]:
    info = document.get("info", {})
    lines = [_anchor(key), f"## {title}", ""]
    lines.append(f"Document `{info.get('title', '')}`, version {info.get('version', '')}.")
    if info.get("description"):
        lines += ["", info["description"]]
    lines.append("")
    groups = _group_by_tag(document)
    lines.append("Areas: " + ", ".join(f"[{tag}](#{_slug(key, 'tag', tag)})" for tag in groups))
    lines.append("")
    for tag, operations in groups.items():
        lines += [_anchor(key, "tag", tag), f"### {tag}", ""]
        for path, method, operation, shared in operations:
            lines += _render_operation(key, path, method, operation, shared)
    schemas = document.get("components", {}).get("schemas", {})
    if schemas:
        lines += [_anchor(key, "schemas"), "### Schemas", ""]
        for name in sorted(schemas):
            lines += _render_schema(key, name, schemas[name])
    return lines


def _group_by_tag(document: JSON) -> dict[str, list[tuple[str, str, JSON, list[JSON]]]]:
    groups: dict[str, list[tuple[str, str, JSON, list[JSON]]]] = {}
    for path, item in document.get("paths", {}).items():
        shared = item.get("parameters", [])
        for method in _METHOD_ORDER:
            operation = item.get(method)
            if operation is None:
                continue
            tag = (operation.get("tags") or [_area_of(path)])[0]
            groups.setdefault(tag, []).append((path, method, operation, shared))
    return dict(sorted(groups.items()))


def _area_of(path: str) -> str:
    if path.startswith("/v2"):
        return "open inference protocol v2"
    if path in {"/invocations", "/ping", "/health", "/version"}:
        return "mlflow scoring protocol"
    return "operations"


def _render_operation(
    key: str, path: str, method: str, operation: JSON, shared: list[JSON]
) -> list[str]:
    lines = [f"#### `{method.upper()} {path}`", ""]
    if operation.get("summary"):
        lines += [_one_line(operation["summary"]), ""]
    parameters = [*shared, *operation.get("parameters", [])]
    if parameters:
        lines += ["| parameter | in | type | required | notes |", "|---|---|---|---|---|"]
        for parameter in parameters:
            schema = parameter.get("schema", {})
            lines.append(
                f"| `{parameter['name']}` | {parameter.get('in', '')} | {_type(key, schema)} | "
                f"{'yes' if parameter.get('required') else ''} | "
                f"{_notes(schema, parameter.get('description'))} |"
            )
        lines.append("")
    body = operation.get("requestBody")
    if body:
        lines += _render_content(key, "Request body", body.get("content", {}))
    for status, response in sorted(operation.get("responses", {}).items()):
        if "$ref" in response or status == "default":
            continue
        label = f"Response {status}"
        content = response.get("content", {})
        if content:
            lines += _render_content(key, label, content)
        else:
            lines += [f"{label}: {_one_line(response.get('description', ''))}", ""]
    errors = sorted(s for s, r in operation.get("responses", {}).items() if "$ref" in r)
    if errors:
        statuses = ", ".join(errors).replace("default", "any other status")
        lines += [f"Errors ({statuses}): the JSON error body.", ""]
    return lines


def _render_content(key: str, label: str, content: JSON) -> list[str]:
    lines: list[str] = []
    for media, entry in content.items():
        schema = entry.get("schema")
        if schema is None:
            lines.append(f"{label} (`{media}`).")
        elif "$ref" in schema or not schema.get("properties"):
            lines.append(f"{label} (`{media}`): {_type(key, schema)}.")
        else:
            described = _one_line(schema.get("description", ""))
            lines += [f"{label} (`{media}`): {described}".rstrip(), "", *_field_table(key, schema)]
        lines.append("")
    return lines


def _render_schema(key: str, name: str, schema: JSON) -> list[str]:
    lines = [_anchor(key, "schema", name), f"#### {name}", ""]
    if schema.get("description"):
        lines += [_one_line(schema["description"]), ""]
    if schema.get("properties"):
        lines += _field_table(key, schema)
    else:
        lines.append(f"{_type(key, schema)}.")
    lines.append("")
    return lines


def _field_table(key: str, schema: JSON) -> list[str]:
    lines = ["| field | type | required | notes |", "|---|---|---|---|"]
    for name, field, required in _fields(schema):
        lines.append(
            f"| `{name}` | {_type(key, field)} | {'yes' if required else ''} | {_notes(field)} |"
        )
    return lines


def _fields(schema: JSON, prefix: str = "") -> Iterator[tuple[str, JSON, bool]]:
    # Inline objects (the serving document has no named schemas) are flattened to dotted names.
    required = set(schema.get("required", []))
    for name, field in schema.get("properties", {}).items():
        yield prefix + name, field, name in required
        if "$ref" not in field:
            if field.get("properties"):
                yield from _fields(field, f"{prefix}{name}.")
            items = field.get("items", {})
            if isinstance(items, dict) and items.get("properties"):
                yield from _fields(items, f"{prefix}{name}[].")


def _type(key: str, schema: JSON) -> str:
    if not schema:
        return "any"
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith(_REF):
        name = ref[len(_REF) :]
        return f"[{name}](#{_slug(key, 'schema', name)})"
    kinds = schema.get("type", "object" if schema.get("properties") else "any")
    if isinstance(kinds, list):
        text = " or ".join(_single_type(key, schema, kind) for kind in kinds)
    else:
        text = _single_type(key, schema, kinds)
    if schema.get("enum"):
        text += ": " + ", ".join(f"`{value}`" for value in schema["enum"] if value is not None)
    return text


def _single_type(key: str, schema: JSON, kind: str) -> str:
    if kind == "array":
        return f"array of {_type(key, schema.get('items', {}))}"
    if kind == "object" and isinstance(schema.get("additionalProperties"), dict):
        values = schema["additionalProperties"]
        return f"object of {_type(key, values)}" if values else "object"
    if schema.get("format") and kind != "null":
        return f"{kind} ({schema['format']})"
    return str(kind)


def _notes(schema: JSON, description: str | None = None) -> str:
    notes = []
    text = description or schema.get("description")
    if text:
        notes.append(_one_line(text))
    if schema.get("default") is not None:
        notes.append(f"default `{schema['default']}`")
    if schema.get("example") is not None:
        notes.append(f"e.g. `{schema['example']}`")
    return "; ".join(notes)


def _one_line(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|").replace("``", "`")


def _slug(*parts: str) -> str:
    return "-".join(re.sub(r"[^a-z0-9]+", "-", part.lower()).strip("-") for part in parts)


def _anchor(*parts: str) -> str:
    return f'<a id="{_slug(*parts)}"></a>'


def current_text() -> str:
    """What docs/rest-api.md should hold for the code as it is now."""
    return render(registry_document(), serving_document())


def main(argv: list[str] | None = None) -> int:
    """Write docs/rest-api.md, or with ``--check`` report whether it is current."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the page is stale")
    args = parser.parse_args(argv)
    text = current_text()
    if args.check:
        if not TARGET.exists() or TARGET.read_text() != text:
            sys.stderr.write(f"{TARGET.relative_to(ROOT)} is out of date: run `{COMMAND}`\n")
            return 1
        return 0
    TARGET.write_text(text)
    sys.stdout.write(f"wrote {TARGET.relative_to(ROOT)} ({text.count(chr(10))} lines)\n")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main())
