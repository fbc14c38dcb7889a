"""The published OpenAPI document: valid, complete, and true to what the server answers."""

from __future__ import annotations

import re
from typing import Any

import pytest
from openapi_schema_validator import OAS31Validator
from openapi_spec_validator import validate

from registry.server.api import openapi
from registry.server.openapi_operations import OPERATIONS

API = "/api/2.0/mlflow"
OURS = "/api/2.0/modelyard"
DOC = f"{OURS}/openapi.json"
PLACEHOLDER = re.compile(r"<(?:[^>]*:)?(\w+)>")


@pytest.fixture
def doc(sqlite_client):
    response = sqlite_client.get(DOC)
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    return response.json


def _api_rules(app):
    return [rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/")]


def _methods(rule):
    return sorted(m.lower() for m in rule.methods - {"HEAD", "OPTIONS"})


def _component(doc, ref):
    return doc["components"]["schemas"][ref["$ref"].rsplit("/", 1)[-1]]


def _request_fields(doc, path, method):
    operation = doc["paths"][path][method]
    if method == "get":
        return {p["name"]: p["required"] for p in operation["parameters"] if p["in"] == "query"}
    schema = _component(doc, operation["requestBody"]["content"]["application/json"]["schema"])
    return {name: name in schema.get("required", []) for name in schema["properties"]}


def test_document_is_valid_openapi_31(doc):
    validate(doc)
    assert doc["openapi"] == "3.1.0"
    assert doc["info"]["title"] and doc["info"]["version"]


def test_every_api_route_is_documented_with_each_method(sqlite_app, doc):
    missing = [
        (rule.rule, method)
        for rule in _api_rules(sqlite_app)
        for method in _methods(rule)
        if method not in doc["paths"].get(PLACEHOLDER.sub(r"{\1}", rule.rule), {})
    ]
    assert missing == []
    for path in ("/health", "/version", "/metrics", "/api/3.0/mlflow/server-info"):
        assert "get" in doc["paths"][path]


def test_every_documented_endpoint_has_a_mapping_entry_and_no_entry_is_stale(sqlite_app):
    """Fails when an endpoint is added without saying what it takes and answers."""
    endpoints = {rule.endpoint for rule in openapi.documented_rules(sqlite_app)}
    assert sorted(endpoints - OPERATIONS.keys()) == []
    assert sorted(OPERATIONS.keys() - endpoints) == []
    assert {rule.endpoint for rule in _api_rules(sqlite_app)} <= endpoints


def test_ui_pages_and_static_files_are_left_out(doc):
    assert not [p for p in doc["paths"] if p.startswith(("/static", "/ui-assets", "/models/"))]
    assert "/" not in doc["paths"]


def test_summaries_come_from_docstrings_and_operation_ids_are_unique(doc):
    create = doc["paths"][f"{API}/runs/create"]["post"]
    assert create["summary"] == "Create a run; answers the whole run."
    operations = [op for item in doc["paths"].values() for op in _operations(item)]
    assert [op["operationId"] for op in operations if not op["summary"]] == []
    ids = [op["operationId"] for op in operations]
    assert len(ids) == len(set(ids))


def _operations(path_item):
    return [op for key, op in path_item.items() if key != "parameters"]


def test_every_operation_answers_errors_with_the_shared_error_schema(doc):
    error = doc["components"]["schemas"]["Error"]
    assert set(error["required"]) == {"error_code", "message"}
    assert "details" in error["properties"]
    for item in doc["paths"].values():
        for operation in _operations(item):
            assert operation["responses"]["default"] == {"$ref": "#/components/responses/Error"}


def test_our_endpoints_have_request_and_response_schemas(doc):
    ours = [p for p in doc["paths"] if p.startswith(OURS) and p != DOC]
    assert len(ours) >= 6
    for path in ours:
        for method, operation in doc["paths"][path].items():
            assert _request_fields(doc, path, method), (path, method)
            body = operation["responses"]["200"]["content"]["application/json"]["schema"]
            assert _component(doc, body)["properties"], (path, method)


@pytest.mark.parametrize(
    ("path", "method", "expected"),
    [
        ("runs/create", "post", {"experiment_id", "user_id", "run_name", "start_time", "tags"}),
        (
            "runs/search",
            "post",
            {"experiment_ids", "filter", "run_view_type", "max_results", "order_by", "page_token"},
        ),
        ("model-versions/create", "post", {"name", "source", "run_id", "tags", "description"}),
        ("registered-models/alias", "get", {"name", "alias"}),
    ],
)
def test_mlflow_endpoints_list_their_request_fields(doc, path, method, expected):
    fields = _request_fields(doc, f"{API}/{path}", method)
    assert expected <= fields.keys()


def test_required_fields_are_marked(doc):
    assert _request_fields(doc, f"{API}/model-versions/create", "post")["source"] is True
    alias = _request_fields(doc, f"{API}/registered-models/alias", "get")
    assert alias["name"] is True and alias["alias"] is True
    run_view_type = doc["components"]["schemas"]["tracking.RunSearchArgs"]["properties"][
        "run_view_type"
    ]
    assert set(run_view_type["enum"]) == {"ACTIVE_ONLY", "DELETED_ONLY", "ALL"}


def test_path_parameters_are_declared(doc):
    item = doc["paths"][f"{API}/logged-models/{{model_id}}/tags/{{tag_key}}"]
    assert {p["name"] for p in item["parameters"]} == {"model_id", "tag_key"}
    multipart = doc["paths"]["/api/2.0/mlflow-artifacts/mpu/{action}/{path}"]["parameters"]
    action = next(p for p in multipart if p["name"] == "action")
    assert action["schema"]["enum"] == ["abort", "complete", "create"]
    upload = doc["paths"]["/api/2.0/mlflow-artifacts/artifacts/{path}"]["put"]
    assert "application/octet-stream" in upload["requestBody"]["content"]


def test_document_is_built_once_per_app(sqlite_app, monkeypatch):
    calls = []
    build = openapi.build_document

    def counting(app):
        calls.append(app)
        return build(app)

    monkeypatch.setattr(openapi, "build_document", counting)
    client = sqlite_app.test_client()
    first = client.get(DOC).data
    assert client.get(DOC).data == first
    assert len(calls) == 1


# --- responses match the document --------------------------------------------------------------


def _check(doc, method, path, response):
    """Validate ``response`` against the documented schema; every key it sends is documented."""
    assert response.status_code == 200, response.json
    operation = doc["paths"][path][method]
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    OAS31Validator({**schema, "components": doc["components"]}).validate(response.json)
    undocumented = list(_undocumented(doc, schema, response.json, path))
    assert undocumented == []


def _undocumented(doc, schema: dict[str, Any], value: Any, where: str):
    if "$ref" in schema:
        schema = _component(doc, schema)
    if isinstance(value, dict) and "properties" in schema:
        for key, item in value.items():
            if key not in schema["properties"]:
                yield f"{where}.{key}"
            else:
                yield from _undocumented(doc, schema["properties"][key], item, f"{where}.{key}")
    elif isinstance(value, list) and "items" in schema:
        for item in value:
            yield from _undocumented(doc, schema["items"], item, f"{where}[]")


def _call(client, doc, method, template, *, params=None, **body):
    """Call ``template`` (its ``{placeholders}`` filled from ``params``) and check the answer."""
    url = template.format(**(params or {}))
    if method == "get":
        response = client.get(url, query_string=body)
    else:
        response = client.open(url, method=method.upper(), json=body)
    _check(doc, method, template, response)
    return response.json


def test_responses_of_a_registry_workflow_match_the_document(sqlite_client, doc):
    c = sqlite_client
    exp_id = _call(c, doc, "post", f"{API}/experiments/create", name="e")["experiment_id"]
    _call(c, doc, "get", f"{API}/experiments/get", experiment_id=exp_id)
    run = _call(c, doc, "post", f"{API}/runs/create", experiment_id=exp_id, run_name="r")["run"]
    run_id = run["info"]["run_id"]
    metric = {"key": "rmse", "value": 0.5, "timestamp": 1, "step": 0}
    _call(c, doc, "post", f"{API}/runs/log-batch", run_id=run_id, metrics=[metric])
    _call(c, doc, "post", f"{API}/runs/log-parameter", run_id=run_id, key="alpha", value="1")
    _call(c, doc, "post", f"{API}/runs/search", experiment_ids=[exp_id])
    _call(c, doc, "get", f"{API}/metrics/get-history", run_id=run_id, metric_key="rmse")
    _call(c, doc, "post", f"{API}/registered-models/create", name="m", tags=[{"key": "k"}])
    source = f"{run['info']['artifact_uri']}/model"
    for _ in range(2):
        _call(
            c, doc, "post", f"{API}/model-versions/create", name="m", source=source, run_id=run_id
        )
    _call(c, doc, "post", f"{API}/registered-models/alias", name="m", alias="champion", version="1")
    _call(c, doc, "get", f"{API}/registered-models/alias", name="m", alias="champion")
    for version in ("1", "2"):
        stage = {"name": "m", "version": version, "stage": "Production"}
        _call(c, doc, "post", f"{API}/model-versions/transition-stage", **stage)
    _call(c, doc, "get", f"{API}/registered-models/get", name="m")
    _call(c, doc, "get", f"{API}/registered-models/search")
    _call(c, doc, "get", f"{API}/model-versions/search", filter="name='m'")
    # ours
    history = _call(c, doc, "get", f"{OURS}/registered-models/history", name="m")
    assert history["transitions"]
    _call(c, doc, "get", f"{OURS}/registered-models/holders", name="m", stage="Production")
    _call(c, doc, "post", f"{OURS}/registered-models/rollback", name="m", stage="Production")
    _call(
        c,
        doc,
        "post",
        f"{OURS}/registered-models/exclusive-stages",
        name="m",
        exclusive_stages=True,
    )
    lineage = _call(c, doc, "get", f"{OURS}/model-versions/lineage", name="m", version="1")
    assert lineage["run"]["run_id"] == run_id
    _call(c, doc, "get", f"{OURS}/model-versions/by-run", run_id=run_id)


def test_responses_of_tracking_and_artifacts_match_the_document(sqlite_client, doc):
    c = sqlite_client
    exp = _call(c, doc, "post", f"{API}/experiments/create", name="e", tags=[{"key": "k"}])
    _call(c, doc, "get", f"{API}/experiments/get-by-name", experiment_name="e")
    _call(c, doc, "get", f"{API}/experiments/search", max_results=5)
    _call(c, doc, "post", f"{API}/experiments/search", filter="name = 'e'")
    run = _call(c, doc, "post", f"{API}/runs/create", experiment_id=exp["experiment_id"])
    run_id = run["run"]["info"]["run_id"]
    metric = {"key": "rmse", "value": "NaN", "timestamp": 1, "step": 2}
    _call(c, doc, "post", f"{API}/runs/log-metric", run_id=run_id, **metric)
    _call(c, doc, "post", f"{API}/runs/update", run_id=run_id, status="FINISHED", end_time=5)
    interval = {"run_ids": [run_id], "metric_key": "rmse"}
    _call(c, doc, "get", f"{API}/metrics/get-history-bulk-interval", **interval)
    create = {"experiment_id": exp["experiment_id"], "name": "lm", "source_run_id": run_id}
    model = _call(c, doc, "post", f"{API}/logged-models", **create)["model"]
    ids = {"model_id": model["info"]["model_id"]}
    dataset = {"name": "d", "digest": "x", "source_type": "code", "source": "{}"}
    inputs = {"datasets": [{"dataset": dataset, "tags": [{"key": "k", "value": "v"}]}]}
    _call(c, doc, "post", f"{API}/runs/log-inputs", run_id=run_id, models=[ids], **inputs)
    _call(c, doc, "post", f"{API}/runs/outputs", run_id=run_id, models=[{**ids, "step": 1}])
    _call(c, doc, "get", f"{API}/runs/get", run_id=run_id)
    ready = {"status": "LOGGED_MODEL_READY"}
    _call(c, doc, "patch", f"{API}/logged-models/{{model_id}}", params=ids, **ready)
    _call(c, doc, "get", f"{API}/logged-models/{{model_id}}", params=ids)
    _call(c, doc, "post", f"{API}/logged-models/search", experiment_ids=[exp["experiment_id"]])
    artifacts = run["run"]["info"]["artifact_uri"].removeprefix("mlflow-artifacts:/")
    put = c.put(f"/api/2.0/mlflow-artifacts/artifacts/{artifacts}/model/MLmodel", data=b"x")
    assert put.status_code == 200
    _call(c, doc, "get", "/api/2.0/mlflow-artifacts/artifacts", path=artifacts)
    _call(c, doc, "get", f"{API}/artifacts/list", run_id=run_id, path="model")
    _call(c, doc, "get", "/api/3.0/mlflow/server-info")


def test_error_responses_match_the_error_schema(sqlite_client, doc):
    response = sqlite_client.get(f"{OURS}/registered-models/history", query_string={"name": "x"})
    assert response.status_code == 404
    schema = {"$ref": "#/components/schemas/Error", "components": doc["components"]}
    OAS31Validator(schema).validate(response.json)


# --- generated requests against a real server --------------------------------------------------


@pytest.mark.parametrize("version", ["\u00b9", "\u0661", "0", "-1", "1.5", "9999999999"])
def test_a_version_that_is_not_a_plain_positive_integer_is_a_400(sqlite_client, version):
    query = {"name": "m", "version": version}
    response = sqlite_client.get(f"{OURS}/model-versions/lineage", query_string=query)
    assert response.status_code == 400
    assert response.json["error_code"] == "INVALID_PARAMETER_VALUE"


@pytest.mark.e2e
def test_our_endpoints_answer_generated_requests_as_documented(tmp_path):
    """No 500s, and every answer (errors included) matches the document: our prefix only."""
    schemathesis = pytest.importorskip("schemathesis")
    from hypothesis import HealthCheck, Phase, given, settings
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_schema_conformance,
    )

    from tests.servers import registry_server

    checks = [not_a_server_error, content_type_conformance, response_schema_conformance]
    with registry_server(tmp_path, workers=1) as base:
        schema = schemathesis.openapi.from_url(f"{base}{DOC}").include(path_regex=f"^{OURS}/")

        @settings(
            max_examples=100,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=schema.as_strategy())
        def call(case):
            case.call_and_validate(base_url=base, checks=checks)

        call()
