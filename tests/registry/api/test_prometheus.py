from pathlib import Path

import httpx
import pytest
from flask.testing import FlaskClient

from tests.servers import registry_server


def _sample(text: str, prefix: str) -> float:
    return sum(
        float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(prefix)
    )


def test_metrics_count_requests_by_endpoint_and_status(sqlite_client: FlaskClient) -> None:
    before = _sample(
        sqlite_client.get("/metrics").text,
        'modelyard_registry_requests_total{endpoint="/health",method="GET",status="200"}',
    )
    for _ in range(3):
        sqlite_client.get("/health")
    sqlite_client.get("/api/2.0/mlflow/does-not-exist")
    queries_before = _sample(
        sqlite_client.get("/metrics").text, "modelyard_registry_database_queries_total"
    )
    got = sqlite_client.get("/api/2.0/mlflow/experiments/get", query_string={"experiment_id": "0"})
    assert got.status_code == 200
    text = sqlite_client.get("/metrics").text
    after = _sample(
        text, 'modelyard_registry_requests_total{endpoint="/health",method="GET",status="200"}'
    )
    assert after - before == 3
    assert 'endpoint="<unmatched>",method="GET",status="404"' in text
    assert "modelyard_registry_request_duration_seconds_bucket" in text
    assert _sample(text, "modelyard_registry_database_queries_total") > queries_before


@pytest.mark.e2e
def test_metrics_add_up_across_gunicorn_workers(tmp_path: Path) -> None:
    with registry_server(tmp_path, workers=2) as base, httpx.Client(base_url=base) as http:
        for _ in range(40):
            # a new connection each time so both workers take requests
            httpx.get(f"{base}/health")
        text = http.get("/metrics").text
    served = _sample(
        text, 'modelyard_registry_requests_total{endpoint="/health",method="GET",status="200"}'
    )
    assert served >= 40  # the readiness poll adds a few


def test_metrics_count_artifact_bytes_in_and_out(sqlite_client: FlaskClient) -> None:
    def total(direction: str) -> float:
        text = sqlite_client.get("/metrics").text
        return _sample(text, f'modelyard_registry_artifact_bytes_total{{direction="{direction}"}}')

    before_in, before_out = total("in"), total("out")
    path = "/api/2.0/mlflow-artifacts/artifacts/0/run/artifacts/blob.bin"
    assert sqlite_client.put(path, data=b"x" * 1000).status_code == 200
    assert sqlite_client.get(path).data == b"x" * 1000
    assert total("in") - before_in == 1000
    assert total("out") - before_out == 1000
