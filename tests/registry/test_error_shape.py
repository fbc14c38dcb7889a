"""Every tracking error path answers one JSON shape whose error_code matches its status."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

API = "/api/2.0/mlflow"
UNKNOWN_RUN = "0" * 32

CASES: list[tuple[str, str, dict[str, Any], int, str]] = [
    ("GET", "/runs/get", {"query_string": {"run_id": UNKNOWN_RUN}}, 404, "RESOURCE_DOES_NOT_EXIST"),
    ("GET", "/runs/get", {}, 400, "INVALID_PARAMETER_VALUE"),
    (
        "GET",
        "/experiments/get",
        {"query_string": {"experiment_id": "999999"}},
        404,
        "RESOURCE_DOES_NOT_EXIST",
    ),
    (
        "GET",
        "/experiments/get",
        {"query_string": {"experiment_id": "abc"}},
        400,
        "INVALID_PARAMETER_VALUE",
    ),
    (
        "GET",
        "/experiments/get-by-name",
        {"query_string": {"experiment_name": "missing"}},
        404,
        "RESOURCE_DOES_NOT_EXIST",
    ),
    ("POST", "/experiments/create", {"json": {"name": "Default"}}, 400, "RESOURCE_ALREADY_EXISTS"),
    ("POST", "/experiments/create", {"json": {}}, 400, "INVALID_PARAMETER_VALUE"),
    (
        "POST",
        "/experiments/create",
        {"data": "{not json", "content_type": "application/json"},
        400,
        "BAD_REQUEST",
    ),
    ("POST", "/experiments/create", {"json": ["a list"]}, 400, "BAD_REQUEST"),
    ("POST", "/runs/search", {"json": {"filter": "metrics.x >"}}, 400, "INVALID_PARAMETER_VALUE"),
    ("POST", "/runs/search", {"json": {"page_token": "###"}}, 400, "INVALID_PARAMETER_VALUE"),
    ("POST", "/runs/search", {"json": {"max_results": 50001}}, 400, "INVALID_PARAMETER_VALUE"),
    (
        "POST",
        "/experiments/search",
        {"json": {"filter": "nonsense ~ 1"}},
        400,
        "INVALID_PARAMETER_VALUE",
    ),
    (
        "POST",
        "/runs/log-metric",
        {"json": {"run_id": UNKNOWN_RUN, "key": "m", "value": 1, "timestamp": 1}},
        404,
        "RESOURCE_DOES_NOT_EXIST",
    ),
    (
        "POST",
        "/runs/log-metric",
        {"json": {"run_id": UNKNOWN_RUN, "key": "m", "value": [1], "timestamp": 1}},
        400,
        "INVALID_PARAMETER_VALUE",
    ),
    (
        "GET",
        "/metrics/get-history",
        {"query_string": {"run_id": UNKNOWN_RUN, "metric_key": "m"}},
        404,
        "RESOURCE_DOES_NOT_EXIST",
    ),
    ("GET", "/logged-models/m-" + "0" * 32, {}, 404, "RESOURCE_DOES_NOT_EXIST"),
    ("POST", "/logged-models", {"json": {"experiment_id": "x"}}, 400, "INVALID_PARAMETER_VALUE"),
    ("GET", "/runs/no-such-endpoint", {}, 404, "ENDPOINT_NOT_FOUND"),
    ("GET", "/runs/create", {}, 405, "METHOD_NOT_ALLOWED"),
    ("DELETE", "/experiments/create", {}, 405, "METHOD_NOT_ALLOWED"),
]


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status", "code"),
    CASES,
    ids=[f"{c[0]} {c[1]} {c[3]}" for c in CASES],
)
def test_error_shape(
    sqlite_client: FlaskClient,
    method: str,
    path: str,
    kwargs: dict[str, Any],
    status: int,
    code: str,
) -> None:
    response = sqlite_client.open(API + path, method=method, **kwargs)
    assert response.status_code == status
    assert response.is_json
    body = response.json
    assert {"error_code", "message"} <= set(body) <= {"error_code", "message", "details"}
    assert body["error_code"] == code
    assert isinstance(body["message"], str)
    assert body["message"]


def test_rejected_writes_leave_the_store_unchanged(sqlite_client: FlaskClient) -> None:
    before = sqlite_client.post(f"{API}/experiments/search", json={"view_type": "ALL"}).json
    for _method, path, kwargs, _status, _code in CASES:
        if _method == "POST":
            sqlite_client.post(API + path, **kwargs)
    after = sqlite_client.post(f"{API}/experiments/search", json={"view_type": "ALL"}).json
    assert after == before
