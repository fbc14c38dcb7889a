"""The Open Inference Protocol V2 over gRPC, driven by Triton's own client and stubs.

One server in this process serves several real saved models through a small ``ModelLookup``;
``tritonclient.grpc`` sends raw tensors (its default) and Triton's generated stubs send typed
``contents``, as a KServe client does.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import numpy as np
import pandas as pd
import pytest
import tritonclient.grpc as triton
from prometheus_client import REGISTRY
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder
from tritonclient.grpc import service_pb2, service_pb2_grpc
from tritonclient.utils import InferenceServerException

from registry.errors import ModelNotReady, NotFound
from registry.models import sklearn as sklearn_flavor
from serving.config import ServingConfig
from serving.grpc import server as grpc_server
from serving.grpc import stubs
from serving.gunicorn_app import WORKER_BOOT_ERROR, start_grpc
from serving.loader import LoadedModel, ModelSource
from tests.conftest import free_port
from tests.serving.conftest import TRAIN, expected, make_app

ROWS = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
INT_LABELS = np.array([0, 1, 0, 1, 1])
TEXT_LABELS = np.array(["low", "high", "low", "high", "high"])
COLORS = pd.DataFrame({"color": ["red", "blue", "red", "green", "blue"], "size": [1.0, 2, 3, 4, 5]})
MAX_ROWS = 50


class Models:
    """A ModelLookup over models loaded already; the names in ``loading`` are not ready."""

    def __init__(self, loaded: dict[str, LoadedModel], loading: tuple[str, ...] = ()) -> None:
        self.loaded = loaded
        self.loading = loading

    def model(self, name: str, version: str | None = None) -> LoadedModel:
        if name in self.loading:
            raise ModelNotReady(f"Model '{name}' is not loaded yet.")
        served = self.loaded.get(name)
        if served is None:
            raise NotFound(f"Model '{name}' is not served here.")
        if version is not None and version != served.version:
            raise NotFound(f"Model '{name}' version '{version}' is not served.")
        return served

    def names(self) -> list[str]:
        return [*self.loaded, *self.loading]

    def ready(self) -> bool:
        return not self.loading


@pytest.fixture(scope="module")
def model_paths(
    model_dirs: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("grpc-models")
    numbers = LogisticRegression().fit(TRAIN, INT_LABELS)
    sklearn_flavor.save_model(numbers, root / "numbers", input_example=TRAIN.head(2))
    words = LogisticRegression().fit(TRAIN, TEXT_LABELS)
    sklearn_flavor.save_model(words, root / "words", input_example=TRAIN.head(2))
    encode = ColumnTransformer([("color", OneHotEncoder(), ["color"])], remainder="passthrough")
    colors = make_pipeline(encode, LinearRegression()).fit(COLORS, [1.0, 2, 3, 4, 5])
    sklearn_flavor.save_model(colors, root / "colors", input_example=COLORS.head(2))
    paths = {name: root / name for name in ("numbers", "words", "colors")}
    return {"reg": model_dirs["signature"], "plain": model_dirs["plain"], **paths}


def _serve(models: Models, **settings: Any) -> tuple[grpc.Server, str]:
    config = ServingConfig(grpc_port=free_port(), threads=2, **settings)
    return grpc_server.start(config, models), f"127.0.0.1:{config.grpc_port}"


@pytest.fixture(scope="module")
def address(model_paths: dict[str, Path]) -> Iterator[str]:
    loaded = {name: ModelSource(str(path), "").load() for name, path in model_paths.items()}
    server, where = _serve(Models(loaded, loading=("warming",)), max_request_rows=MAX_ROWS)
    yield where
    server.stop(None)


@pytest.fixture
def client(address: str) -> Iterator[triton.InferenceServerClient]:
    with triton.InferenceServerClient(address) as made:
        yield made


@pytest.fixture
def stub(address: str) -> Iterator[service_pb2_grpc.GRPCInferenceServiceStub]:
    with grpc.insecure_channel(address) as channel:
        yield service_pb2_grpc.GRPCInferenceServiceStub(channel)


def _raw_input(name: str, array: np.ndarray, datatype: str) -> triton.InferInput:
    tensor = triton.InferInput(name, list(array.shape), datatype)
    tensor.set_data_from_numpy(array)
    return tensor


def _typed_request(model: str, **contents: list[Any]) -> service_pb2.ModelInferRequest:
    request = service_pb2.ModelInferRequest(model_name=model, id="typed-1")
    tensor = request.inputs.add(name="x", datatype="FP64", shape=[2, 3])
    tensor.contents.fp64_contents.extend(np.asarray(ROWS).reshape(-1))
    for field, values in contents.items():
        getattr(tensor.contents, field).extend(values)
    return request


def _status(err: pytest.ExceptionInfo[InferenceServerException]) -> str:
    return str(err.value.status())


def test_health_and_metadata_of_two_models(client: triton.InferenceServerClient) -> None:
    assert client.is_server_live()
    assert not client.is_server_ready()  # "warming" is not loaded
    assert client.is_model_ready("reg") and client.is_model_ready("numbers", "local")
    assert not client.is_model_ready("warming")
    assert client.get_server_metadata().name == "modelyard"
    metadata = client.get_model_metadata("reg")
    assert (metadata.name, list(metadata.versions), metadata.platform) == (
        "reg",
        ["local"],
        "mlflow",
    )
    inputs = [(t.name, t.datatype, list(t.shape)) for t in metadata.inputs]
    assert inputs == [(c, "FP64", [-1]) for c in ("a", "b", "c")]
    assert [t.name for t in metadata.outputs] == ["predict"]


def test_raw_fp32_tensor_answers_raw(client: triton.InferenceServerClient) -> None:
    x = np.asarray(ROWS, dtype=np.float32)
    result = client.infer("plain", [_raw_input("x", x, "FP32")], request_id="r-1")
    response = result.get_response()
    assert (response.model_name, response.model_version, response.id) == ("plain", "local", "r-1")
    assert len(response.raw_output_contents) == 1
    assert not response.outputs[0].contents.ListFields()
    np.testing.assert_allclose(result.as_numpy("predict"), expected(ROWS), rtol=1e-5)


def test_typed_request_answers_typed_contents_equal_to_rest(
    stub: service_pb2_grpc.GRPCInferenceServiceStub, model_dirs: dict[str, Path]
) -> None:
    response = stub.ModelInfer(_typed_request("reg"))
    assert not response.raw_output_contents
    (output,) = response.outputs
    rest = make_app(model_dirs["signature"]).test_client()
    body = {
        "id": "typed-1",
        "inputs": [{"name": "x", "shape": [2, 3], "datatype": "FP64", "data": ROWS}],
    }
    answer = rest.post("/v2/models/model/infer", json=body)
    assert answer.status_code == 200, answer.get_json()
    (json_output,) = answer.get_json()["outputs"]
    grpc_output = {
        "name": output.name,
        "datatype": output.datatype,
        "shape": list(output.shape),
        "data": list(output.contents.fp64_contents),
    }
    assert grpc_output == json_output
    assert response.id == answer.get_json()["id"]
    np.testing.assert_allclose(grpc_output["data"], expected(ROWS))


def test_undeclared_params_are_ignored_with_a_warning(
    stub: service_pb2_grpc.GRPCInferenceServiceStub,
) -> None:
    request = _typed_request("reg")
    request.parameters["température"].string_param = "high"
    request.parameters["binary_data_output"].bool_param = True
    response, call = stub.ModelInfer.with_call(request)
    headers = dict(call.initial_metadata())
    assert headers["x-model-version"] == "local"
    assert "Ignored params not in the model's signature: temp\\xe9rature" in headers["warning"]
    assert "binary_data_output" not in headers["warning"]  # the protocol's, not the model's
    assert len(response.raw_output_contents) == 1  # and it asks for raw outputs
    predicted = np.frombuffer(response.raw_output_contents[0], "<f8")
    np.testing.assert_allclose(predicted, expected(ROWS))


def test_int64_columns_and_a_method_output(client: triton.InferenceServerClient) -> None:
    columns = [
        _raw_input(c, np.asarray([r[i] for r in ROWS], np.int64), "INT64")
        for i, c in enumerate("abc")
    ]
    wanted = [triton.InferRequestedOutput("predict"), triton.InferRequestedOutput("predict_proba")]
    result = client.infer("numbers", columns, outputs=wanted)
    model = LogisticRegression().fit(TRAIN, INT_LABELS)
    frame = pd.DataFrame(ROWS, columns=TRAIN.columns)
    labels = result.as_numpy("predict")
    assert labels.dtype == np.int64 and labels.tolist() == model.predict(frame).tolist()
    np.testing.assert_allclose(result.as_numpy("predict_proba"), model.predict_proba(frame))


def test_int64_typed_output(stub: service_pb2_grpc.GRPCInferenceServiceStub) -> None:
    response = stub.ModelInfer(_typed_request("numbers"))
    (output,) = response.outputs
    assert output.datatype == "INT64" and list(output.shape) == [2]
    frame = pd.DataFrame(ROWS, columns=TRAIN.columns)
    model = LogisticRegression().fit(TRAIN, INT_LABELS)
    assert list(output.contents.int64_contents) == model.predict(frame).tolist()


def test_bytes_outputs_typed_and_raw(
    client: triton.InferenceServerClient, stub: service_pb2_grpc.GRPCInferenceServiceStub
) -> None:
    frame = pd.DataFrame(ROWS, columns=TRAIN.columns)
    labels = LogisticRegression().fit(TRAIN, TEXT_LABELS).predict(frame).tolist()
    typed = stub.ModelInfer(_typed_request("words")).outputs[0]
    assert typed.datatype == "BYTES"
    assert [v.decode() for v in typed.contents.bytes_contents] == labels
    raw = client.infer("words", [_raw_input("x", np.asarray(ROWS), "FP64")])
    assert [v.decode() for v in raw.as_numpy("predict")] == labels


def test_bytes_inputs_typed_and_raw(
    client: triton.InferenceServerClient, stub: service_pb2_grpc.GRPCInferenceServiceStub
) -> None:
    colors, sizes = ["green", "red"], [2.0, 7.0]
    pipeline = make_pipeline(
        ColumnTransformer([("color", OneHotEncoder(), ["color"])], remainder="passthrough"),
        LinearRegression(),
    ).fit(COLORS, [1.0, 2, 3, 4, 5])
    want = pipeline.predict(pd.DataFrame({"color": colors, "size": sizes}))
    raw = client.infer(
        "colors",
        [
            _raw_input("color", np.asarray(colors, dtype=np.object_), "BYTES"),
            _raw_input("size", np.asarray(sizes), "FP64"),
        ],
    )
    np.testing.assert_allclose(raw.as_numpy("predict"), want)
    request = service_pb2.ModelInferRequest(model_name="colors")
    color = request.inputs.add(name="color", datatype="BYTES", shape=[2])
    color.contents.bytes_contents.extend(c.encode() for c in colors)
    size = request.inputs.add(name="size", datatype="FP64", shape=[2])
    size.contents.fp64_contents.extend(sizes)
    typed = stub.ModelInfer(request).outputs[0]
    np.testing.assert_allclose(list(typed.contents.fp64_contents), want)


def test_rows_predicted_are_counted_by_model(client: triton.InferenceServerClient) -> None:
    labels = {"model": "plain"}
    before = REGISTRY.get_sample_value("modelyard_serving_rows_predicted_total", labels) or 0
    client.infer("plain", [_raw_input("x", np.asarray(ROWS), "FP64")])
    after = REGISTRY.get_sample_value("modelyard_serving_rows_predicted_total", labels)
    assert after == before + 2


@pytest.mark.parametrize(
    ("model", "version", "status", "words"),
    [
        ("nope", "", "NOT_FOUND", "'nope' is not served"),
        ("reg", "7", "NOT_FOUND", "version '7'"),
        ("warming", "", "UNAVAILABLE", "not loaded yet"),
    ],
)
def test_model_lookup_errors(
    client: triton.InferenceServerClient, model: str, version: str, status: str, words: str
) -> None:
    with pytest.raises(InferenceServerException) as err:
        client.infer(model, [_raw_input("x", np.asarray(ROWS), "FP64")], model_version=version)
    assert _status(err) == f"StatusCode.{status}"
    assert words in str(err.value.message())


def test_unknown_model_is_not_found_for_metadata_and_readiness(
    client: triton.InferenceServerClient,
) -> None:
    for call in (client.get_model_metadata, client.is_model_ready):
        with pytest.raises(InferenceServerException) as err:
            call("nope")
        assert _status(err) == "StatusCode.NOT_FOUND"


def _infer_error(
    stub: service_pb2_grpc.GRPCInferenceServiceStub, request: service_pb2.ModelInferRequest
) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as err:
        stub.ModelInfer(request)
    return err.value


def test_bad_inputs_are_invalid_argument_with_our_message(
    stub: service_pb2_grpc.GRPCInferenceServiceStub,
) -> None:
    unknown = _typed_request("reg")
    unknown.inputs[0].datatype = "FP128"
    short = _typed_request("reg")
    short.inputs[0].shape[:] = [3, 3]
    wrong_field = _typed_request("reg", fp32_contents=[1.0])
    too_many = service_pb2.ModelInferRequest(model_name="plain")
    too_many.inputs.add(name="x", datatype="FP64", shape=[MAX_ROWS + 1, 3])
    too_many.raw_input_contents.append(np.zeros((MAX_ROWS + 1, 3)).tobytes())
    unmatched = service_pb2.ModelInferRequest(model_name="plain")
    unmatched.inputs.add(name="x", datatype="FP64", shape=[2, 3])
    unmatched.raw_input_contents.extend([b"", b""])
    no_inputs = service_pb2.ModelInferRequest(model_name="plain")
    cases = {
        "unknown datatype 'FP128'": unknown,
        "needs 9 values, data has 6": short,
        "FP64 data goes in contents.fp64_contents, not fp32_contents": wrong_field,
        "SERVING_MAX_REQUEST_ROWS": too_many,
        "raw_input_contents holds 2 tensors": unmatched,
        "at least one tensor": no_inputs,
    }
    for words, request in cases.items():
        error = _infer_error(stub, request)
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT, words
        assert words in error.details()
        assert ("error-code", "BAD_REQUEST") in error.trailing_metadata()


def test_unknown_output_and_a_signature_violation(
    client: triton.InferenceServerClient,
) -> None:
    x = [_raw_input("x", np.asarray(ROWS), "FP64")]
    with pytest.raises(InferenceServerException) as err:
        client.infer("reg", x, outputs=[triton.InferRequestedOutput("nope")])
    assert _status(err) == "StatusCode.INVALID_ARGUMENT" and "'nope'" in str(err.value)
    with pytest.raises(InferenceServerException) as err:
        client.infer("reg", [_raw_input("a", np.asarray([1.0, 2.0]), "FP64")])
    assert _status(err) == "StatusCode.INVALID_ARGUMENT"


def test_a_message_over_the_size_limit_is_resource_exhausted(
    model_paths: dict[str, Path],
) -> None:
    loaded = {"plain": ModelSource(str(model_paths["plain"]), "").load()}
    server, where = _serve(Models(loaded), max_request_bytes=4096)
    try:
        with triton.InferenceServerClient(where) as small:
            with pytest.raises(InferenceServerException) as err:
                small.infer("plain", [_raw_input("x", np.zeros((200, 3)), "FP64")])
            assert _status(err) == "StatusCode.RESOURCE_EXHAUSTED"
            result = small.infer("plain", [_raw_input("x", np.asarray(ROWS), "FP64")])
            assert result.as_numpy("predict").shape == (2,)
    finally:
        server.stop(None)


def test_other_rpcs_are_unimplemented(stub: service_pb2_grpc.GRPCInferenceServiceStub) -> None:
    with pytest.raises(grpc.RpcError) as err:
        stub.RepositoryModelLoad(service_pb2.RepositoryModelLoadRequest(model_name="reg"))
    assert err.value.code() == grpc.StatusCode.UNIMPLEMENTED


def test_workers_share_the_port_and_a_taken_port_fails_loudly() -> None:
    models = Models({})
    port = free_port()
    config = ServingConfig(grpc_port=port, threads=1)
    first = grpc_server.start(config, models)
    second = grpc_server.start(config, models)  # SO_REUSEPORT: as each gunicorn worker binds
    first.stop(None)
    second.stop(None)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = ServingConfig(grpc_port=taken.getsockname()[1], threads=1)
        with pytest.raises(OSError, match="cannot bind the gRPC server"):
            grpc_server.start(busy, models)
    with pytest.raises(ValueError, match="SERVING_GRPC_PORT is 0"):
        grpc_server.start(ServingConfig(grpc_port=0), models)


def test_our_messages_are_wire_compatible_with_tritons() -> None:
    def fields(descriptor: Any) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for field in descriptor.fields:
            kind = field.message_type.full_name if field.message_type else field.type
            found[field.name] = (field.number, kind, field.label)
        for nested in descriptor.nested_types:
            found[nested.name] = fields(nested)
        return found

    ours = stubs.service()
    theirs = service_pb2.DESCRIPTOR.services_by_name["GRPCInferenceService"]
    # The RPCs we answer; KServe's RepositoryModelLoad/Unload messages differ from Triton's.
    answered = ("ServerLive", "ServerReady", "ModelReady", "ServerMetadata", "ModelMetadata")
    for method in [m for m in ours.methods if m.name in (*answered, "ModelInfer")]:
        their_method = theirs.methods_by_name[method.name]
        for kind in ("input_type", "output_type"):
            mine, triton_type = getattr(method, kind), getattr(their_method, kind)
            assert mine.full_name == triton_type.full_name
            triton_fields = fields(triton_type)
            assert {k: triton_fields.get(k) for k in fields(mine)} == fields(mine), mine.full_name


@pytest.mark.parametrize(
    ("datatype", "field", "value"), [("INT8", "int_contents", 300), ("UINT8", "uint_contents", 300)]
)
def test_an_out_of_range_integer_is_invalid_argument(
    stub: service_pb2_grpc.GRPCInferenceServiceStub, datatype: str, field: str, value: int
) -> None:
    request = service_pb2.ModelInferRequest(model_name="plain")
    tensor = request.inputs.add(name="x", datatype=datatype, shape=[1, 1])
    getattr(tensor.contents, field).append(value)
    error = _infer_error(stub, request)
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert f"out of the range of {datatype}" in error.details()
    assert ("error-code", "INVALID_PARAMETER_VALUE") in error.trailing_metadata()


def test_server_metadata_lists_the_extensions_rest_lists(
    client: triton.InferenceServerClient, model_dirs: dict[str, Path]
) -> None:
    rest = make_app(model_dirs["plain"]).test_client().get("/v2").get_json()
    assert rest["extensions"]  # binary tensors, model repository
    assert list(client.get_server_metadata().extensions) == rest["extensions"]


def test_a_failed_infer_is_counted_as_over_rest(
    stub: service_pb2_grpc.GRPCInferenceServiceStub,
) -> None:
    route = f"/{stubs.SERVICE}/ModelInfer"
    request = service_pb2.ModelInferRequest(model_name="plain")
    request.inputs.add(name="x", datatype="FP64", shape=[2, 3])  # no data
    labels = {"route": route, "method": "GRPC", "status": "400", "model": "plain"}
    errors = {"error_code": "BAD_REQUEST", "model": "plain"}
    before = [
        REGISTRY.get_sample_value("modelyard_serving_requests_total", labels) or 0,
        REGISTRY.get_sample_value("modelyard_serving_prediction_errors_total", errors) or 0,
    ]
    _infer_error(stub, request)
    assert [
        REGISTRY.get_sample_value("modelyard_serving_requests_total", labels),
        REGISTRY.get_sample_value("modelyard_serving_prediction_errors_total", errors),
    ] == [before[0] + 1, before[1] + 1]


def test_a_worker_whose_grpc_port_was_taken_after_the_check_exits_with_one_log_line(
    model_dirs: dict[str, Path], caplog: pytest.LogCaptureFixture
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        app = make_app(model_dirs["plain"], grpc_port=port, threads=1)
        with pytest.raises(SystemExit) as exited:
            start_grpc(app.extensions["serving"], logging.getLogger("gunicorn.error"))
    assert exited.value.code == WORKER_BOOT_ERROR
    (record,) = [r for r in caplog.records if r.name == "gunicorn.error"]
    assert f"cannot bind the gRPC server to 127.0.0.1:{port}" in record.getMessage()
    assert "--grpc-port" in record.getMessage() and record.exc_info is None
