"""Serving request limits: a body cap (also for chunked bodies) and a row cap per request."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from registry.errors import BadRequest
from serving.config import ServingConfig
from serving.protocols.mlflow import parse_invocation
from serving.protocols.v2 import parse_infer_request
from tests.serving.conftest import COLUMNS, expected, make_app

ROW = [1.0, 2.0, 3.0]
MAX_ROWS = 5


@pytest.fixture
def capped_client(model_dirs: dict[str, Path]) -> FlaskClient:
    app = make_app(model_dirs["plain"], max_request_bytes=4096, max_request_rows=MAX_ROWS)
    return app.test_client()


def _split(rows: int) -> dict[str, Any]:
    return {"dataframe_split": {"columns": COLUMNS, "data": [ROW] * rows}}


def _bodies(rows: int) -> list[tuple[str, bytes]]:
    """The same ``rows`` rows in every /invocations format."""
    records = [dict(zip(COLUMNS, ROW, strict=True))] * rows
    columns = {name: [value] * rows for name, value in zip(COLUMNS, ROW, strict=True)}
    documents = [
        _split(rows),
        {"dataframe_records": records},
        {"instances": [ROW] * rows},
        {"inputs": columns},
    ]
    bodies = [("application/json", json.dumps(d).encode()) for d in documents]
    csv = "a,b,c\n" + "1.0,2.0,3.0\n" * rows
    return [*bodies, ("text/csv", csv.encode())]


def test_a_body_over_the_cap_is_413_naming_the_cap(capped_client: FlaskClient) -> None:
    body = json.dumps(_split(400)).encode()
    assert len(body) > 4096
    reply = capped_client.post("/invocations", data=body, content_type="application/json")
    assert reply.status_code == 413
    assert reply.json["error_code"] == "PAYLOAD_TOO_LARGE"
    assert "4096" in reply.json["message"]
    assert "SERVING_MAX_REQUEST_BYTES" in reply.json["message"]


def _chunked(client: FlaskClient, body: bytes) -> Any:
    return client.post(
        "/invocations",
        input_stream=io.BytesIO(body),
        headers={"Transfer-Encoding": "chunked", "Content-Type": "application/json"},
        environ_overrides={"wsgi.input_terminated": True},
    )


def test_a_chunked_body_is_capped_too(capped_client: FlaskClient) -> None:
    too_big = _chunked(capped_client, json.dumps(_split(400)).encode())
    assert (too_big.status_code, too_big.json["error_code"]) == (413, "PAYLOAD_TOO_LARGE")
    assert "4096" in too_big.json["message"]
    fits = _chunked(capped_client, json.dumps(_split(2)).encode())
    assert fits.status_code == 200, fits.json
    assert fits.json["predictions"] == pytest.approx(expected([ROW] * 2))


@pytest.mark.parametrize("index", range(5), ids=["split", "records", "instances", "inputs", "csv"])
def test_rows_over_the_cap_are_400_in_every_format(capped_client: FlaskClient, index: int) -> None:
    content_type, body = _bodies(MAX_ROWS + 1)[index]
    reply = capped_client.post("/invocations", data=body, content_type=content_type)
    assert reply.status_code == 400
    assert reply.json["error_code"] == "BAD_REQUEST"
    assert f"limit is {MAX_ROWS} rows" in reply.json["message"]
    assert "SERVING_MAX_REQUEST_ROWS" in reply.json["message"]
    content_type, body = _bodies(MAX_ROWS)[index]
    fits = capped_client.post("/invocations", data=body, content_type=content_type)
    assert fits.status_code == 200, fits.json


def test_v2_rows_over_the_cap_are_400(capped_client: FlaskClient) -> None:
    def infer(rows: int) -> Any:
        tensor = {"name": "x", "shape": [rows, 3], "datatype": "FP64", "data": ROW * rows}
        return capped_client.post("/v2/models/model/infer", json={"inputs": [tensor]})

    refused = infer(MAX_ROWS + 1)
    assert (refused.status_code, refused.json["error_code"]) == (400, "BAD_REQUEST")
    assert "SERVING_MAX_REQUEST_ROWS" in refused.json["message"]
    assert infer(MAX_ROWS).status_code == 200


def test_rows_are_counted_before_arrays_are_built() -> None:
    # The declared shape alone is refused: no billion-row array is ever allocated.
    tensor = {"name": "x", "shape": [10**9, 3], "datatype": "FP64", "data": ROW}
    with pytest.raises(BadRequest, match="1000000000 rows"):
        parse_infer_request(json.dumps({"inputs": [tensor]}).encode(), max_rows=MAX_ROWS)
    csv = b"a,b,c\n" + b"1,2,3\n" * 1000
    with pytest.raises(BadRequest, match=f"more than {MAX_ROWS} rows; the limit is {MAX_ROWS}"):
        parse_invocation(csv, "text/csv", max_rows=MAX_ROWS)


def test_the_row_cap_is_a_setting() -> None:
    assert ServingConfig().max_request_rows == 100_000
    config = ServingConfig.from_env({"SERVING_MAX_REQUEST_ROWS": "20"})
    assert config.max_request_rows == 20
    with pytest.raises(ValueError, match="SERVING_MAX_REQUEST_ROWS"):
        ServingConfig.from_env({"SERVING_MAX_REQUEST_ROWS": "many"})
