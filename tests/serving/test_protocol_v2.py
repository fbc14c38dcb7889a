import json

import numpy as np
import pandas as pd
import pytest
from flask.testing import FlaskClient

from registry.errors import BadRequest, InvalidParameter
from serving.protocols.v2 import infer_response_body, output_tensors, parse_infer_request


def test_inputs_become_arrays_of_their_shape_and_datatype() -> None:
    req = parse_infer_request(
        json.dumps(
            {
                "id": "r1",
                "inputs": [
                    {"name": "x", "shape": [2, 2], "datatype": "FP32", "data": [1, 2, 3, 4]},
                    {"name": "n", "shape": [2], "datatype": "INT64", "data": [[5], [6]]},
                    {"name": "s", "shape": [2], "datatype": "BYTES", "data": ["a", "b"]},
                ],
            }
        ).encode()
    )
    assert req.id == "r1"
    assert req.inputs["x"].dtype == np.float32
    assert req.inputs["x"].tolist() == [[1, 2], [3, 4]]
    assert req.inputs["n"].tolist() == [5, 6]
    assert req.inputs["s"].tolist() == ["a", "b"]


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({}, "'inputs'"),
        ({"inputs": []}, "at least one tensor"),
        ({"inputs": [{"name": "x", "shape": [2]}]}, "missing ['datatype', 'data']"),
        ({"inputs": [{"name": "x", "shape": [2], "datatype": "F64", "data": [1, 2]}]}, "F64"),
        ({"inputs": [{"name": "x", "shape": [3], "datatype": "FP64", "data": [1, 2]}]}, "needs 3"),
        ({"inputs": [{"name": "x", "shape": [1], "datatype": "FP64", "data": ["a"]}]}, "not FP64"),
        ({"inputs": [{"name": "x", "shape": "2", "datatype": "FP64", "data": [1]}]}, "shape"),
    ],
)
def test_malformed_infer_requests_are_bad_requests(
    document: dict[str, object], message: str
) -> None:
    with pytest.raises(BadRequest) as info:
        parse_infer_request(json.dumps(document).encode())
    assert message in info.value.message


def test_response_tensors_are_flat_with_shape_and_datatype() -> None:
    body = json.loads(infer_response_body("m", "3", "r1", np.array([[1.0, 2.0], [3.0, 4.0]])))
    assert body == {
        "model_name": "m",
        "model_version": "3",
        "id": "r1",
        "outputs": [{"name": "predict", "shape": [2, 2], "datatype": "FP64", "data": [1, 2, 3, 4]}],
    }


def test_a_dataframe_gives_one_output_per_column() -> None:
    tensors = output_tensors(pd.DataFrame({"a": [1, 2], "b": ["x", "y"]}))
    assert [(t["name"], t["datatype"], t["shape"]) for t in tensors] == [
        ("a", "INT64", [2]),
        ("b", "BYTES", [2]),
    ]


@pytest.mark.parametrize(
    ("datatype", "data"), [("INT8", [300]), ("UINT64", [-1]), ("INT64", [2**70])]
)
def test_integers_out_of_the_datatypes_range_are_invalid_parameters(
    datatype: str, data: list[int]
) -> None:
    document = {"inputs": [{"name": "x", "shape": [1], "datatype": datatype, "data": data}]}
    with pytest.raises(InvalidParameter) as info:
        parse_infer_request(json.dumps(document).encode())
    assert info.value.error_code == "INVALID_PARAMETER_VALUE"
    assert f"Input 'x': a value is out of the range of {datatype}" in info.value.message


def test_an_out_of_range_integer_answers_400_over_rest(plain_client: FlaskClient) -> None:
    body = {"inputs": [{"name": "x", "shape": [1, 1], "datatype": "INT8", "data": [300]}]}
    answer = plain_client.post("/v2/models/model/infer", json=body)
    assert answer.status_code == 400
    reply = answer.get_json()
    assert reply["error_code"] == "INVALID_PARAMETER_VALUE"
    assert "out of the range of INT8" in reply["message"] and "Traceback" not in reply["message"]


def test_kserve_v1_predict_with_the_wrong_method_is_405(plain_client: FlaskClient) -> None:
    answer = plain_client.get("/v1/models/model:predict")
    assert answer.status_code == 405
    assert answer.headers["Allow"] == "POST"
    assert answer.get_json()["error_code"] == "METHOD_NOT_ALLOWED"
    assert plain_client.get("/v1/models/model").status_code == 200
