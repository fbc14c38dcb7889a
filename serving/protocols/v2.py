"""Open Inference Protocol V2 (KServe/Triton/MLServer): tensor JSON in and out."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
import pandas as pd

from registry.errors import BadRequest
from serving.protocols import jsoncodec
from serving.protocols.limits import check_rows

_DTYPES: dict[str, str] = {
    "BOOL": "bool",
    "UINT8": "uint8",
    "UINT16": "uint16",
    "UINT32": "uint32",
    "UINT64": "uint64",
    "INT8": "int8",
    "INT16": "int16",
    "INT32": "int32",
    "INT64": "int64",
    "FP16": "float16",
    "FP32": "float32",
    "FP64": "float64",
    "BYTES": "object",
}
_DATATYPES = {np.dtype(v): k for k, v in _DTYPES.items()}


@dataclasses.dataclass(frozen=True, slots=True)
class InferRequest:
    """A parsed V2 inference request: named input tensors and request parameters."""

    id: str | None
    inputs: dict[str, np.ndarray]
    parameters: dict[str, Any] | None


def parse_infer_request(body: bytes, max_rows: int | None = None) -> InferRequest:
    """Parse a ``POST /v2/models/{name}/infer`` body into numpy tensors of their shapes.

    ``max_rows`` caps each tensor's first dimension, checked on its declared shape before its
    data becomes an array (None or 0: no cap).

    Raises:
        BadRequest: malformed JSON, a missing field, an unknown datatype, data whose length
            does not match the shape, or a first dimension over ``max_rows``.
    """
    try:
        document = jsoncodec.loads(body)
    except jsoncodec.JSONDecodeError as err:
        raise BadRequest(f"Invalid input. The body is not valid JSON. Error: '{err!r}'") from None
    if not isinstance(document, dict) or not isinstance(document.get("inputs"), list):
        raise BadRequest("Invalid input. An inference request is an object with 'inputs': [...].")
    if not document["inputs"]:
        raise BadRequest("Invalid input. 'inputs' must hold at least one tensor.")
    parameters = document.get("parameters")
    if parameters is not None and not isinstance(parameters, dict):
        raise BadRequest("Invalid input. 'parameters' must be an object.")
    inputs = {}
    for spec in document["inputs"]:
        name, tensor = _tensor(spec, max_rows)
        inputs[name] = tensor
    request_id = document.get("id")
    return InferRequest(None if request_id is None else str(request_id), inputs, parameters or None)


def _tensor(spec: Any, max_rows: int | None) -> tuple[str, np.ndarray]:
    if not isinstance(spec, dict):
        raise BadRequest("Invalid input. Each input is an object with name, shape, datatype, data.")
    missing = [k for k in ("name", "shape", "datatype", "data") if k not in spec]
    if missing:
        raise BadRequest(f"Invalid input. Input tensor is missing {missing}.")
    name, shape, datatype = spec["name"], spec["shape"], spec["datatype"]
    if datatype not in _DTYPES:
        raise BadRequest(
            f"Invalid input. Input '{name}': unknown datatype {datatype!r}; "
            f"expected one of {sorted(_DTYPES)}."
        )
    if not isinstance(shape, list) or not all(isinstance(d, int) and d >= 0 for d in shape):
        raise BadRequest(f"Invalid input. Input '{name}': shape must be a list of sizes.")
    check_rows(shape[0] if shape else 1, max_rows)
    try:
        flat = np.asarray(spec["data"], dtype=_DTYPES[datatype]).reshape(-1)
    except (ValueError, TypeError) as err:
        raise BadRequest(f"Invalid input. Input '{name}': data is not {datatype}: {err}") from None
    if flat.size != math.prod(shape):
        raise BadRequest(
            f"Invalid input. Input '{name}': shape {shape} needs {math.prod(shape)} values, "
            f"data has {flat.size}."
        )
    return str(name), flat.reshape(shape)


def infer_response_body(
    model_name: str, model_version: str, request_id: str | None, predictions: Any
) -> bytes:
    """The V2 inference response: one output tensor per prediction column."""
    body: dict[str, Any] = {
        "model_name": model_name,
        "model_version": model_version,
        "outputs": output_tensors(predictions),
    }
    if request_id is not None:
        body["id"] = request_id
    return jsoncodec.dumps(body)


def output_tensors(predictions: Any) -> list[dict[str, Any]]:
    """Shape a model's output as V2 output tensors (a DataFrame gives one per column)."""
    if isinstance(predictions, pd.DataFrame):
        return [_output(str(col), predictions[col].to_numpy()) for col in predictions.columns]
    if isinstance(predictions, pd.Series):
        predictions = predictions.to_numpy()
    return [_output("predict", np.asarray(predictions))]


def _output(name: str, array: np.ndarray) -> dict[str, Any]:
    datatype = _DATATYPES.get(array.dtype, "BYTES")
    data = array.reshape(-1)
    if datatype == "BYTES":
        data = np.asarray([str(v) for v in data.tolist()], dtype=object)
    return {
        "name": name,
        "shape": list(array.shape),
        "datatype": datatype,
        "data": data.tolist() if datatype == "BYTES" else np.ascontiguousarray(data),
    }


def datatype_of(type_name: str) -> str:
    """The V2 datatype of an MLflow column type name (``double``, ``long``, ``string``, ...)."""
    return {
        "double": "FP64",
        "float": "FP32",
        "long": "INT64",
        "integer": "INT32",
        "boolean": "BOOL",
    }.get(type_name, "BYTES")
