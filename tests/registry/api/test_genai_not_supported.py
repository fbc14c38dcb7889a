"""MLflow's GenAI routes answer MLflow's "not supported" (501 NOT_IMPLEMENTED), nothing else."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from registry.server.api.not_supported import FEATURES

NOT_SUPPORTED = "NOT_IMPLEMENTED"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/api/3.0/mlflow/traces"),  # start_trace (v3)
        ("POST", "/api/2.0/mlflow/traces"),  # start_trace (v2)
        ("GET", "/api/3.0/mlflow/traces/tr-1"),
        ("POST", "/api/3.0/mlflow/traces/search"),
        ("GET", "/api/2.0/mlflow/traces/tr-1/info"),
        ("PATCH", "/api/3.0/mlflow/traces/tr-1/tags"),
        ("POST", "/api/3.0/mlflow/traces/tr-1/assessments"),
        ("POST", "/v1/traces"),  # OTLP span logging
        ("POST", "/api/3.0/mlflow/datasets/create"),
        ("GET", "/api/3.0/mlflow/scorers/list"),
        ("POST", "/api/3.0/mlflow/prompt-optimization/jobs"),
        ("GET", "/api/3.0/mlflow/gateway/secrets/list"),
        ("POST", "/gateway/chat/mlflow/invocations"),
        ("GET", "/ajax-api/3.0/mlflow/traces/tr-1"),  # MLflow's web UI
        ("GET", "/ajax-api/3.0/jobs/search"),
    ],
)
def test_genai_routes_answer_mlflows_not_supported(
    sqlite_client: FlaskClient, method: str, path: str
) -> None:
    response = sqlite_client.open(path, method=method, json={})

    assert response.status_code == 501
    assert set(response.json) == {"error_code", "message"}
    assert response.json["error_code"] == NOT_SUPPORTED
    assert "not supported by Modelyard" in response.json["message"]


def test_otlp_says_what_mlflows_exporter_reads_to_stop_sending_spans(
    sqlite_client: FlaskClient,
) -> None:
    response = sqlite_client.post(
        "/v1/traces", data=b"\x0a\x00", headers={"Content-Type": "application/x-protobuf"}
    )

    assert response.status_code == 501
    assert "REST OTLP span logging is not supported" in response.json["message"]


def test_other_unknown_paths_are_still_endpoint_not_found(sqlite_client: FlaskClient) -> None:
    for path in ("/api/2.0/mlflow/nothing-here", "/api/3.0/mlflow/tracesx", "/v1/metrics"):
        response = sqlite_client.get(path, headers={"Accept": "application/json"})
        assert (response.status_code, response.json["error_code"]) == (404, "ENDPOINT_NOT_FOUND")


def test_routes_we_serve_under_api_3_are_not_shadowed(sqlite_client: FlaskClient) -> None:
    response = sqlite_client.get("/api/3.0/mlflow/server-info")

    assert response.status_code == 200
    assert response.json["store_type"] == "SqlStore"


def test_every_feature_the_issue_names_has_a_prefix() -> None:
    names = " ".join(name.lower() for name, _ in FEATURES.values())
    for feature in ("tracing", "otlp", "dataset", "scorer", "prompt", "gateway", "secrets"):
        assert feature in names
