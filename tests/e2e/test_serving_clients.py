"""Real inference clients against a real ``modelyard serve`` process, on their defaults."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import tritonclient.http as triton
from sklearn.linear_model import LinearRegression, LogisticRegression
from tritonclient.utils import InferenceServerException

from registry.models import sklearn as sklearn_flavor
from tests.conftest import free_port
from tests.mlflow_env import KSERVE, MLSERVER, run_official_client
from tests.servers import process

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]

COLUMNS = ["a", "b", "c"]
TRAIN = pd.DataFrame({"a": [1.0, 2, 3, 4, 5], "b": [0.0, 1, 0, 1, 3], "c": [5.0, 1, 2, 3, 1]})
TARGET = 2 * TRAIN["a"] + TRAIN["b"] - TRAIN["c"]
ROWS = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
MODEL = LinearRegression().fit(TRAIN.to_numpy(), TARGET)
EXPECTED = MODEL.predict(ROWS)
CLASSIFIER = LogisticRegression().fit(TRAIN.to_numpy(), [0, 1, 0, 1, 1])
SCRIPTS = Path(__file__).resolve().parent.parent / "serving" / "scripts"


def serve(model_dir: Path, log: Path) -> Iterator[str]:
    port = free_port()
    args = [sys.executable, "-m", "registry.cli", "serve", str(model_dir), "--port", str(port)]
    args += ["--workers", "1"]
    with process(args, f"http://127.0.0.1:{port}/ping", log):
        yield f"127.0.0.1:{port}"


@pytest.fixture(scope="module")
def tensor_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A model whose signature is one float64 tensor of shape [-1, 3]."""
    root = tmp_path_factory.mktemp("tensor")
    sklearn_flavor.save_model(MODEL, root / "model", input_example=TRAIN.to_numpy()[:2])
    yield from serve(root / "model", root / "serve.log")


@pytest.fixture(scope="module")
def column_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A model whose signature is the double columns a, b and c."""
    root = tmp_path_factory.mktemp("columns")
    model = LinearRegression().fit(TRAIN, TARGET)
    sklearn_flavor.save_model(model, root / "model", input_example=TRAIN.head(2))
    yield from serve(root / "model", root / "serve.log")


@pytest.fixture(scope="module")
def classifier_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A logistic regression (predict_proba) whose signature is one float64 tensor."""
    root = tmp_path_factory.mktemp("classifier")
    sklearn_flavor.save_model(CLASSIFIER, root / "model", input_example=TRAIN.to_numpy()[:2])
    yield from serve(root / "model", root / "serve.log")


def tensor_input(rows: np.ndarray, binary: bool = True) -> triton.InferInput:
    tensor = triton.InferInput("input-0", list(rows.shape), "FP64")
    return tensor.set_data_from_numpy(rows, binary_data=binary)


def test_tritonclient_defaults_send_and_receive_binary_tensors(tensor_server: str) -> None:
    client = triton.InferenceServerClient(tensor_server)
    result = client.infer("model", [tensor_input(ROWS)])
    assert result.as_numpy("predict") == pytest.approx(EXPECTED)
    assert result.get_output("predict")["parameters"]["binary_data_size"] == 16


def test_tritonclient_json_tensors_and_a_requested_output(tensor_server: str) -> None:
    client = triton.InferenceServerClient(tensor_server)
    wanted = triton.InferRequestedOutput("predict", binary_data=False)
    result = client.infer("model", [tensor_input(ROWS, binary=False)], outputs=[wanted])
    assert result.get_output("predict")["data"] == pytest.approx(EXPECTED.tolist())
    assert result.as_numpy("predict") == pytest.approx(EXPECTED)


def test_tritonclient_named_columns_in_binary(column_server: str) -> None:
    client = triton.InferenceServerClient(column_server)
    inputs = []
    for i, name in enumerate(COLUMNS):
        column = triton.InferInput(name, [len(ROWS)], "FP64")
        inputs.append(column.set_data_from_numpy(np.ascontiguousarray(ROWS[:, i])))
    result = client.infer("model", inputs)
    assert result.as_numpy("predict") == pytest.approx(EXPECTED)


def test_tritonclient_compressed_request_and_response(tensor_server: str) -> None:
    client = triton.InferenceServerClient(tensor_server)
    rows = np.tile(ROWS, (100, 1))
    result = client.infer(
        "model",
        [tensor_input(rows)],
        request_compression_algorithm="gzip",
        response_compression_algorithm="gzip",
    )
    assert result.as_numpy("predict") == pytest.approx(MODEL.predict(rows))
    deflated = client.infer(
        "model",
        [tensor_input(rows)],
        request_compression_algorithm="deflate",
        response_compression_algorithm="deflate",
    )
    assert deflated.as_numpy("predict") == pytest.approx(MODEL.predict(rows))


def test_tritonclient_errors_carry_our_message(tensor_server: str) -> None:
    client = triton.InferenceServerClient(tensor_server)
    unknown = triton.InferRequestedOutput("output0")
    with pytest.raises(InferenceServerException) as info:
        client.infer("model", [tensor_input(ROWS)], outputs=[unknown])
    assert "Unknown output(s) 'output0'" in info.value.message()
    assert info.value.status() == "400"
    with pytest.raises(InferenceServerException) as info:
        client.infer("other", [tensor_input(ROWS)])
    assert "Model 'other' is not served here" in info.value.message()
    wide = np.ones((2, 4))
    with pytest.raises(InferenceServerException) as info:
        client.infer("model", [tensor_input(wide)])
    assert "shape" in info.value.message()


def test_tritonclient_metadata_lists_the_signature(tensor_server: str, column_server: str) -> None:
    client = triton.InferenceServerClient(tensor_server)
    assert client.is_server_live() and client.is_server_ready()
    assert client.is_model_ready("model")
    assert "binary_tensor_data" in client.get_server_metadata()["extensions"]
    metadata = client.get_model_metadata("model")
    assert metadata["inputs"] == [{"name": "input-0", "datatype": "FP64", "shape": [-1, 3]}]
    assert metadata["outputs"] == [{"name": "predict", "datatype": "FP64", "shape": [-1]}]
    columns = triton.InferenceServerClient(column_server).get_model_metadata("model")
    assert columns["inputs"] == [
        {"name": name, "datatype": "FP64", "shape": [-1]} for name in COLUMNS
    ]


def _in_venv(lock: str, script: str, tmp: Path, *servers: str) -> dict[str, Any]:
    urls = [f"http://{server}" for server in servers]
    return run_official_client(SCRIPTS / script, "", tmp, *urls, requirement=lock)


def test_kserve_rest_client_on_its_defaults(
    tensor_server: str, column_server: str, classifier_server: str, tmp_path: Path
) -> None:
    got = _in_venv(
        KSERVE, "kserve_client.py", tmp_path, tensor_server, column_server, classifier_server
    )
    assert (got["live"], got["ready"], got["model_ready"]) == (True, True, True)
    binary = got["binary"]["predict"]
    assert binary["datatype"] == "FP64" and binary["shape"] == [2]
    assert binary["data"] == pytest.approx(EXPECTED.tolist())
    assert got["json"]["predict"]["data"] == pytest.approx(EXPECTED.tolist())
    assert got["columns"]["predict"]["data"] == pytest.approx(EXPECTED.tolist())
    assert got["dict"]["predict"]["data"] == pytest.approx(MODEL.predict(ROWS[:1]).tolist())
    methods = got["methods"]
    assert list(methods) == ["predict_proba", "predict"]
    assert methods["predict_proba"]["shape"] == [2, 2]
    assert methods["predict_proba"]["data"] == pytest.approx(CLASSIFIER.predict_proba(ROWS))
    assert methods["predict"]["data"] == CLASSIFIER.predict(ROWS).tolist()
    assert got["unknown_output"]["status"] == 400
    assert "Unknown output(s) 'output0'" in got["unknown_output"]["message"]
    assert got["regressor_proba"]["status"] == 400
    assert "the model has no predict_proba method" in got["regressor_proba"]["message"]
    assert got["unknown_model"]["status"] == 404
    assert "Model 'other' is not served here" in got["unknown_model"]["message"]
    assert got["wrong_shape"]["status"] == 400
    assert "shape" in got["wrong_shape"]["message"]


def test_mlserver_types_accept_our_bodies_and_we_accept_theirs(
    tensor_server: str, column_server: str, classifier_server: str, tmp_path: Path
) -> None:
    got = _in_venv(
        MLSERVER, "mlserver_types.py", tmp_path, tensor_server, column_server, classifier_server
    )
    assert "binary_tensor_data" in got["server_extensions"]
    assert got["tensor_metadata"] == {
        "inputs": [{"name": "input-0", "datatype": "FP64", "shape": [-1, 3]}],
        "outputs": [{"name": "predict", "datatype": "FP64", "shape": [-1]}],
    }
    assert [t["name"] for t in got["columns_metadata"]["inputs"]] == COLUMNS
    assert got["numpy"]["status"] == 200
    assert got["numpy"]["outputs"]["predict"] == pytest.approx(EXPECTED.tolist())
    assert got["pandas"]["outputs"]["predict"] == pytest.approx(EXPECTED.tolist())
    methods = got["methods"]
    assert methods["id"] == "mine"
    assert methods["outputs"]["predict_proba"] == pytest.approx(CLASSIFIER.predict_proba(ROWS))
    assert methods["outputs"]["predict"] == CLASSIFIER.predict(ROWS).tolist()
    assert got["unknown_output"]["status"] == 400
    assert "Unknown output(s) 'transform'" in got["unknown_output"]["error"]
