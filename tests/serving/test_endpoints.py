from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from serving.app import create_app
from serving.config import ServingConfig
from tests.serving.conftest import COLUMNS, expected, make_app

ROWS = [[1.0, 2.0, 3.0], [4.0, 0.5, 1.0]]


def test_ping_health_and_version(signature_client: FlaskClient) -> None:
    ping = signature_client.get("/ping")
    assert (ping.status_code, ping.data) == (200, b"\n")
    health = signature_client.get("/health").get_json()
    assert health["model_version"] == "local"
    assert health["load_error"] is None
    assert signature_client.get("/version").data == b"3.17.2"


def test_before_the_model_loads_everything_is_503(model_dirs: dict[str, Path]) -> None:
    config = ServingConfig(model_uri=str(model_dirs["plain"]))
    client = create_app(config, None, start=False).test_client()
    for method, path in [
        ("GET", "/ping"),
        ("GET", "/health"),
        ("GET", "/v2/health/ready"),
        ("POST", "/invocations"),
    ]:
        response = client.open(path, method=method, json={"inputs": [[1, 2, 3]]})
        assert response.status_code == 503, path
        assert response.get_json()["error_code"] == "MODEL_NOT_READY"
    assert client.get("/v2/health/live").status_code == 200


def test_mlflow_request_formats_give_the_same_predictions(signature_client: FlaskClient) -> None:
    want = {"predictions": pytest.approx(expected(ROWS))}
    records = [dict(zip(COLUMNS, row, strict=True)) for row in ROWS]
    bodies = [
        {"dataframe_split": {"columns": COLUMNS, "data": ROWS}},
        {"dataframe_records": records},
        {"instances": records},
        {"inputs": records},
        {"inputs": {c: [row[i] for row in ROWS] for i, c in enumerate(COLUMNS)}},
        {"inputs": ROWS},
        {
            "dataframe_split": {
                "columns": ["c", "a", "b"],
                "data": [[r[2], r[0], r[1]] for r in ROWS],
            }
        },
    ]
    for body in bodies:
        response = signature_client.post("/invocations", json=body)
        assert response.get_json() == want, body
    csv = "a,b,c\n" + "\n".join(",".join(map(str, r)) for r in ROWS)
    response = signature_client.post("/invocations", data=csv, content_type="text/csv")
    assert response.get_json() == want


def test_v2_metadata_readiness_and_inference(signature_client: FlaskClient) -> None:
    assert signature_client.get("/v2/health/live").status_code == 200
    assert signature_client.get("/v2/health/ready").status_code == 200
    assert signature_client.get("/v2").get_json()["name"] == "modelyard"
    meta = signature_client.get("/v2/models/model").get_json()
    assert meta["versions"] == ["local"]
    assert [i["name"] for i in meta["inputs"]] == COLUMNS
    assert {i["datatype"] for i in meta["inputs"]} == {"FP64"}
    assert signature_client.get("/v2/models/model/ready").status_code == 200
    assert signature_client.get("/v2/models/model/versions/local/ready").status_code == 200

    tensor = {
        "name": "input",
        "shape": [2, 3],
        "datatype": "FP64",
        "data": [v for r in ROWS for v in r],
    }
    for path in ("/v2/models/model/infer", "/v2/models/model/versions/local/infer"):
        body = signature_client.post(path, json={"id": "7", "inputs": [tensor]}).get_json()
        assert body["id"] == "7"
        assert body["model_name"] == "model"
        (output,) = body["outputs"]
        assert (output["shape"], output["datatype"]) == ([2], "FP64")
        assert output["data"] == pytest.approx(expected(ROWS))

    columns = [
        {"name": c, "shape": [2], "datatype": "FP64", "data": [r[i] for r in ROWS]}
        for i, c in enumerate(COLUMNS)
    ]
    body = signature_client.post("/v2/models/model/infer", json={"inputs": columns}).get_json()
    assert body["outputs"][0]["data"] == pytest.approx(expected(ROWS))


def test_v2_unknown_model_or_version_is_404(signature_client: FlaskClient) -> None:
    for path in ("/v2/models/other", "/v2/models/other/ready", "/v2/models/model/versions/9"):
        response = signature_client.get(path)
        assert response.status_code == 404
        assert response.get_json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    infer = signature_client.post("/v2/models/model/infer", json={"inputs": "x"})
    assert infer.status_code == 400


def test_v2_model_name_is_configurable(model_dirs: dict[str, Path]) -> None:
    client = make_app(model_dirs["signature"], model_name="taxi").test_client()
    assert client.get("/v2/models/taxi/ready").status_code == 200
    assert client.get("/v2/models/model/ready").status_code == 404


def test_openapi_describes_every_route(signature_client: FlaskClient) -> None:
    document = signature_client.get("/openapi.json").get_json()
    assert document["openapi"].startswith("3.")
    app = signature_client.application
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert method.lower() in document["paths"][path], f"{method} {path}"


def test_metrics_count_requests_rows_errors_and_the_served_version(
    signature_client: FlaskClient,
) -> None:
    def sample(text: str, name: str) -> float:
        match = re.search(rf"^{re.escape(name)} ([\d.e+-]+)$", text, re.M)
        return float(match.group(1)) if match else 0.0

    ok = (
        'modelyard_serving_requests_total{method="POST",model="model",'
        'route="/invocations",status="200"}'
    )
    bad = (
        "modelyard_serving_prediction_errors_total"
        '{error_code="INVALID_PARAMETER_VALUE",model="model"}'
    )
    before = signature_client.get("/metrics").get_data(as_text=True)
    signature_client.post("/invocations", json={"inputs": ROWS})
    signature_client.post("/invocations", json={"inputs": [[1.0]]})
    after = signature_client.get("/metrics").get_data(as_text=True)
    assert sample(after, ok) - sample(before, ok) == 1
    assert sample(after, bad) - sample(before, bad) == 1
    rows = 'modelyard_serving_rows_predicted_total{model="model"}'
    assert sample(after, rows) - sample(before, rows) == 2
    assert "modelyard_serving_request_duration_seconds_bucket{" in after
    for name in (
        "modelyard_serving_model_load_seconds",
        "modelyard_serving_model_load_failures_total",
        "modelyard_serving_last_load_failed",
        "modelyard_serving_model_version_info",
    ):
        assert f"# TYPE {name}" in after


def test_every_response_names_the_version(signature_client: FlaskClient) -> None:
    for path in ("/ping", "/health", "/metrics", "/v2/health/live", "/nope"):
        assert signature_client.get(path).headers["X-Model-Version"] == "local"
