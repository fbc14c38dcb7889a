"""V2 as its clients expect: error bodies, requested outputs, binary tensors, all datatypes."""

from __future__ import annotations

import gzip
import json
import struct
import zlib

import numpy as np
import pytest
from flask.testing import FlaskClient

from registry.errors import BadRequest
from serving.protocols.v2 import InferRequest, infer_response, parse_infer_request
from tests.serving.conftest import expected

INFER = "/v2/models/model/infer"
ROWS = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]


def binary_request(header: dict[str, object], *chunks: bytes) -> tuple[bytes, dict[str, str]]:
    encoded = json.dumps(header).encode()
    return encoded + b"".join(chunks), {"Inference-Header-Content-Length": str(len(encoded))}


def test_v2_errors_have_an_error_field_and_mlflow_errors_do_not(
    signature_client: FlaskClient,
) -> None:
    v2 = signature_client.post(INFER, json={"inputs": "x"})
    assert v2.status_code == 400
    body = v2.get_json()
    assert body["error"] == body["message"]
    assert body["error_code"] == "BAD_REQUEST"
    missing = signature_client.get("/v2/models/other").get_json()
    assert missing["error"].startswith("Model 'other' is not served here")
    invocations = signature_client.post("/invocations", json={"inputs": "x"}).get_json()
    assert "error" not in invocations


@pytest.mark.parametrize(
    ("datatype", "data", "dtype"),
    [
        ("BOOL", [True, False], np.bool_),
        ("INT8", [-1, 2], np.int8),
        ("INT16", [-1, 2], np.int16),
        ("INT32", [-1, 2], np.int32),
        ("INT64", [-1, 2], np.int64),
        ("UINT8", [1, 2], np.uint8),
        ("UINT16", [1, 2], np.uint16),
        ("UINT32", [1, 2], np.uint32),
        ("UINT64", [1, 2], np.uint64),
        ("FP16", [0.5, 2], np.float16),
        ("FP32", [0.5, 2], np.float32),
        ("FP64", [0.5, 2], np.float64),
    ],
)
def test_every_datatype_reads_from_json_and_binary_alike(
    datatype: str, data: list[object], dtype: type
) -> None:
    spec = {"name": "x", "shape": [2], "datatype": datatype}
    from_json = parse_infer_request(json.dumps({"inputs": [{**spec, "data": data}]}).encode())
    raw = np.asarray(data, dtype=dtype).astype(np.dtype(dtype).newbyteorder("<")).tobytes()
    header = {"inputs": [{**spec, "parameters": {"binary_data_size": len(raw)}}]}
    body, headers = binary_request(header, raw)
    from_binary = parse_infer_request(body, None, headers["Inference-Header-Content-Length"])
    assert from_json.inputs["x"].dtype == from_binary.inputs["x"].dtype == dtype
    assert from_json.inputs["x"].tolist() == from_binary.inputs["x"].tolist() == data


def test_binary_bytes_elements_are_length_prefixed() -> None:
    raw = b"".join(struct.pack("<I", len(v)) + v for v in (b"taxi", b"", b"\xff\x00"))
    header = {
        "inputs": [
            {"name": "s", "shape": [3], "datatype": "BYTES", "parameters": {"binary_data_size": 18}}
        ]
    }
    body, headers = binary_request(header, raw)
    req = parse_infer_request(body, None, headers["Inference-Header-Content-Length"])
    assert req.inputs["s"].tolist() == ["taxi", "", b"\xff\x00"]


@pytest.mark.parametrize(
    ("size", "chunk", "length", "message"),
    [
        (16, b"\0" * 8, None, "no binary data"),
        (8, b"\0" * 8, None, "needs 16 bytes"),
        (16, b"\0" * 24, None, "binary_data_size add up to 16"),
        (16, b"\0" * 16, "9999", "Inference-Header-Content-Length"),
        (-1, b"", None, "binary_data_size must be a size"),
    ],
)
def test_inconsistent_binary_requests_are_bad_requests(
    size: int, chunk: bytes, length: str | None, message: str
) -> None:
    header = {
        "inputs": [
            {
                "name": "x",
                "shape": [2],
                "datatype": "FP64",
                "parameters": {"binary_data_size": size},
            }
        ]
    }
    body, headers = binary_request(header, chunk)
    with pytest.raises(BadRequest) as info:
        parse_infer_request(body, None, length or headers["Inference-Header-Content-Length"])
    assert message in info.value.message


def test_binary_request_and_binary_output_through_the_app(signature_client: FlaskClient) -> None:
    raw = np.asarray(ROWS).tobytes()
    header = {
        "inputs": [
            {
                "name": "x",
                "shape": [2, 3],
                "datatype": "FP64",
                "parameters": {"binary_data_size": 48},
            }
        ],
        "parameters": {"binary_data_output": True},
    }
    body, headers = binary_request(header, raw)
    response = signature_client.post(INFER, data=body, headers=headers)
    assert response.status_code == 200, response.get_json()
    length = int(response.headers["Inference-Header-Content-Length"])
    answer = json.loads(response.data[:length])
    (output,) = answer["outputs"]
    assert output == {
        "name": "predict",
        "shape": [2],
        "datatype": "FP64",
        "parameters": {"binary_data_size": 16},
    }
    assert np.frombuffer(response.data[length:], "<f8") == pytest.approx(expected(ROWS))


def test_requested_outputs_are_honoured_and_unknown_ones_refused(
    signature_client: FlaskClient,
) -> None:
    tensor = {"name": "x", "shape": [2, 3], "datatype": "FP64", "data": ROWS}
    wanted = {"inputs": [tensor], "outputs": [{"name": "predict"}]}
    (output,) = signature_client.post(INFER, json=wanted).get_json()["outputs"]
    assert output["data"] == pytest.approx(expected(ROWS))
    unknown = signature_client.post(INFER, json={**wanted, "outputs": [{"name": "output0"}]})
    assert unknown.status_code == 400
    assert unknown.get_json()["error"] == (
        "Invalid input. Unknown output(s) 'output0': the model produces 'predict'."
    )


def test_a_signature_names_the_outputs_and_splits_columns() -> None:
    req = InferRequest(None, {}, None)
    body, length = infer_response("m", "1", req, np.array([[1, 2], [3, 4]]), ["lo", "hi"])
    assert length is None
    outputs = json.loads(body)["outputs"]
    assert [(o["name"], o["data"]) for o in outputs] == [("lo", [1, 3]), ("hi", [2, 4])]


def test_protocol_parameters_do_not_reach_the_model() -> None:
    document = {
        "inputs": [{"name": "x", "shape": [1], "datatype": "FP64", "data": [1]}],
        "parameters": {"binary_data_output": True, "priority": 1, "scale": 2},
    }
    req = parse_infer_request(json.dumps(document).encode())
    assert req.parameters == {"scale": 2}
    assert req.binary_output


@pytest.mark.parametrize(
    ("coding", "compress"),
    [("gzip", gzip.compress), ("deflate", zlib.compress)],
)
def test_compressed_request_bodies_are_read_by_both_protocols(
    signature_client: FlaskClient, coding: str, compress: object
) -> None:
    assert callable(compress)
    headers = {"Content-Encoding": coding, "Content-Type": "application/json"}
    split = {"dataframe_split": {"columns": ["a", "b", "c"], "data": ROWS}}
    mlflow = signature_client.post(
        "/invocations", data=compress(json.dumps(split).encode()), headers=headers
    )
    assert mlflow.get_json()["predictions"] == pytest.approx(expected(ROWS))
    tensor = {"inputs": [{"name": "x", "shape": [2, 3], "datatype": "FP64", "data": ROWS}]}
    v2 = signature_client.post(INFER, data=compress(json.dumps(tensor).encode()), headers=headers)
    assert v2.get_json()["outputs"][0]["data"] == pytest.approx(expected(ROWS))


def test_bad_or_oversized_compressed_bodies_are_refused(signature_client: FlaskClient) -> None:
    headers = {"Content-Encoding": "gzip", "Content-Type": "application/json"}
    corrupt = signature_client.post("/invocations", data=b"not gzip", headers=headers)
    assert corrupt.status_code == 400
    # 4096 bytes is the fixture's SERVING_MAX_REQUEST_BYTES; zeros compress to a few bytes.
    bomb = gzip.compress(b'{"inputs": [' + b"0," * 5000 + b"0]}")
    too_large = signature_client.post("/invocations", data=bomb, headers=headers)
    assert too_large.status_code == 413
    brotli = signature_client.post("/invocations", data=b"{}", headers={"Content-Encoding": "br"})
    assert brotli.status_code == 415


def test_responses_are_compressed_when_accepted_and_large(signature_client: FlaskClient) -> None:
    rows = ROWS * 50
    split = {"dataframe_split": {"columns": ["a", "b", "c"], "data": rows}}
    plain = signature_client.post("/invocations", json=split)
    assert "Content-Encoding" not in plain.headers
    zipped = signature_client.post("/invocations", json=split, headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert json.loads(gzip.decompress(zipped.data)) == plain.get_json()
    refused = signature_client.post(
        "/invocations", json=split, headers={"Accept-Encoding": "gzip;q=0"}
    )
    assert "Content-Encoding" not in refused.headers
    small = {"dataframe_split": {"columns": ["a", "b", "c"], "data": ROWS}}
    tiny = signature_client.post("/invocations", json=small, headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in tiny.headers
