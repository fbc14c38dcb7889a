"""Open Inference Protocol V2 over gRPC: protobuf messages in and out.

A ``ModelInferRequest`` becomes the same ``InferRequest`` a V2 JSON body does (the tensors go
through ``v2.input_tensor``, so datatypes, shapes and row limits are checked once for both),
and the outputs ``v2.response_tensors`` picks become a ``ModelInferResponse``.

Outputs are typed ``contents`` unless the request asked for raw ones: it sent
``raw_input_contents`` (as KServe answers), set ``binary_data_output``, or asked for an output
with ``binary_data``. An FP16 output has no typed field, so it makes every output raw: a response
holds ``raw_output_contents`` for all of its outputs or for none.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from registry.errors import BadRequest
from serving.grpc import stubs
from serving.protocols import v2_binary
from serving.protocols.v2 import (
    InferRequest,
    RequestedOutput,
    infer_request,
    input_tensor,
    response_tensors,
    tensor_metadata,
)

CONTENTS: dict[str, str] = {
    "BOOL": "bool_contents",
    "INT8": "int_contents",
    "INT16": "int_contents",
    "INT32": "int_contents",
    "INT64": "int64_contents",
    "UINT8": "uint_contents",
    "UINT16": "uint_contents",
    "UINT32": "uint_contents",
    "UINT64": "uint64_contents",
    "FP32": "fp32_contents",
    "FP64": "fp64_contents",
    "BYTES": "bytes_contents",
}
"""The ``InferTensorContents`` field of each datatype; FP16 has none (raw contents only)."""

_ModelInferResponse = stubs.message("ModelInferResponse")
_ModelMetadataResponse = stubs.message("ModelMetadataResponse")


def parse_model_infer_request(request: Any, max_rows: int | None = None) -> InferRequest:
    """The InferRequest of a ``ModelInferRequest``: its tensors decoded and checked.

    Raises:
        BadRequest: raw contents that do not match the inputs, typed contents in the wrong
            field, or a tensor ``v2.input_tensor`` refuses (datatype, shape, rows, size).
    """
    raw = list(request.raw_input_contents)
    if raw and len(raw) != len(request.inputs):
        raise BadRequest(
            f"Invalid input. raw_input_contents holds {len(raw)} tensors; the request has "
            f"{len(request.inputs)} inputs (one each, in their order)."
        )
    inputs: dict[str, np.ndarray] = {}
    for i, tensor in enumerate(request.inputs):
        name, datatype, shape = tensor.name, tensor.datatype, list(tensor.shape)
        if raw:
            if tensor.contents.ListFields():
                raise BadRequest(
                    f"Invalid input. Input '{name}' has contents, but the request sends "
                    "raw_input_contents: send every input one way."
                )
            inputs[name] = input_tensor(name, datatype, shape, max_rows, raw=raw[i])
        else:
            values = _typed_values(name, datatype, tensor.contents)
            inputs[name] = input_tensor(name, datatype, shape, max_rows, values)
    parameters = _parameters(request.parameters)
    outputs = tuple(RequestedOutput(o.name, _binary(o.parameters)) for o in request.outputs)
    return infer_request(request.id or None, inputs, parameters, outputs or None)


def _typed_values(name: str, datatype: str, contents: Any) -> list[Any] | None:
    field = CONTENTS.get(datatype)
    if field is None:
        if datatype == "FP16":
            raise BadRequest(
                f"Invalid input. Input '{name}': FP16 has no typed contents; send it in "
                "raw_input_contents."
            )
        return None  # an unknown datatype: input_tensor names the known ones
    others = [f.name for f, _ in contents.ListFields() if f.name != field]
    if others:
        raise BadRequest(
            f"Invalid input. Input '{name}': {datatype} data goes in contents.{field}, "
            f"not {', '.join(others)}."
        )
    values = list(getattr(contents, field))
    if datatype == "BYTES":
        return [_text(v) for v in values]
    return values


def _text(value: bytes) -> str | bytes:
    # As the binary extension decodes BYTES: text when it is UTF-8 (a model's string column).
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return value


def _parameters(parameters: Any) -> dict[str, Any]:
    values = {}
    for key, parameter in parameters.items():
        choice = parameter.WhichOneof("parameter_choice")
        if choice is not None:
            values[key] = getattr(parameter, choice)
    return values


def _binary(parameters: Any) -> bool | None:
    binary = _parameters(parameters).get("binary_data")
    return None if binary is None else bool(binary)


def wants_raw(request: Any, req: InferRequest) -> bool:
    """Whether the response should hold raw contents (see the module's docstring)."""
    asked = any(o.binary for o in req.outputs or ())
    return bool(request.raw_input_contents) or req.binary_output or asked


def model_infer_response(
    model_name: str,
    model_version: str,
    req: InferRequest,
    predictions: Any,
    raw: bool,
    names: list[str] | None = None,
    methods: dict[str, Any] | None = None,
) -> Any:
    """The ``ModelInferResponse`` of a model's predictions (arguments as ``v2.infer_response``).

    Raises:
        BadRequest: the request asks for an output the model does not produce.
    """
    tensors = [tensor for tensor, _ in response_tensors(req, predictions, names, methods)]
    raw = raw or any(t.datatype not in CONTENTS for t in tensors)
    response = _ModelInferResponse(
        model_name=model_name, model_version=model_version, id=req.id or ""
    )
    for tensor in tensors:
        output = response.outputs.add(name=tensor.name, datatype=tensor.datatype)
        output.shape.extend(tensor.shape)
        if raw:
            response.raw_output_contents.append(
                v2_binary.encode_tensor(tensor.datatype, tensor.data)
            )
        else:
            getattr(output.contents, CONTENTS[tensor.datatype]).extend(
                _typed(tensor.datatype, tensor.data)
            )
    return response


def _typed(datatype: str, data: np.ndarray) -> list[Any]:
    if datatype == "BYTES":
        return [v if isinstance(v, bytes) else str(v).encode("utf-8") for v in data.tolist()]
    values: list[Any] = data.tolist()
    return values


def model_metadata_response(name: str, version: str, signature: Any) -> Any:
    """The ``ModelMetadataResponse`` of a served model: its signature's tensors, as V2 JSON's."""
    response = _ModelMetadataResponse(name=name, versions=[version], platform="mlflow")
    for field, tensors in (
        (response.inputs, tensor_metadata(signature.inputs if signature else None)),
        (response.outputs, tensor_metadata(signature.outputs if signature else None, True)),
    ):
        for tensor in tensors:
            field.add(name=tensor["name"], datatype=tensor["datatype"], shape=tensor["shape"])
    return response
