"""Open Inference Protocol V2 (KServe/Triton/MLServer): tensor JSON in and out."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
import pandas as pd

from registry.errors import BadRequest, InvalidParameter
from registry.models.model_input import ModelInput
from registry.models.schema import ColSpec, Schema, TensorSpec
from serving.protocols import jsoncodec, v2_binary
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

EXTENSIONS = (v2_binary.EXTENSION, "model_repository")
"""The protocol extensions the server metadata lists, over REST and gRPC alike."""


# Request parameters that steer the protocol, not the model (Triton's reserved names and
# MLServer's codec hint): they never reach ``predict(params=)``.
_PROTOCOL_PARAMETERS = frozenset(
    {
        "binary_data_output",
        "sequence_id",
        "sequence_start",
        "sequence_end",
        "priority",
        "timeout",
        "headers",
        "content_type",
    }
)


@dataclasses.dataclass(frozen=True, slots=True)
class RequestedOutput:
    """One entry of a request's ``outputs``: a name and, if given, whether to send it binary."""

    name: str
    binary: bool | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class InferRequest:
    """A parsed V2 inference request.

    Attributes:
        id: the request id, echoed in the response.
        inputs: named input tensors.
        parameters: the model's params (protocol parameters removed), or None.
        outputs: the outputs asked for, or None for all of them.
        binary_output: ``parameters.binary_data_output``: send outputs as binary by default.
    """

    id: str | None
    inputs: dict[str, np.ndarray]
    parameters: dict[str, Any] | None
    outputs: tuple[RequestedOutput, ...] | None = None
    binary_output: bool = False

    def model_input(self) -> ModelInput:
        """The input tensors and the model's params, as the one value a Predictor reads."""
        return ModelInput("tensors", self.inputs, params=self.parameters)


def parse_infer_request(
    body: bytes, max_rows: int | None = None, header_length: str | None = None
) -> InferRequest:
    """Parse a ``POST /v2/models/{name}/infer`` body into numpy tensors of their shapes.

    ``max_rows`` caps each tensor's first dimension, checked on its declared shape before its
    data becomes an array (None or 0: no cap). ``header_length`` is the request's
    ``Inference-Header-Content-Length``: the body is then a JSON header followed by the raw
    data of the inputs that declare ``parameters.binary_data_size``.

    Raises:
        BadRequest: malformed JSON, a missing field, an unknown datatype, data whose length
            does not match the shape, or a first dimension over ``max_rows``.
        InvalidParameter: an integer out of its datatype's range.
    """
    header, binary = v2_binary.split_body(body, header_length)
    try:
        document = jsoncodec.loads(header)
    except jsoncodec.JSONDecodeError as err:
        raise BadRequest(f"Invalid input. The body is not valid JSON. Error: '{err!r}'") from None
    if not isinstance(document, dict) or not isinstance(document.get("inputs"), list):
        raise BadRequest("Invalid input. An inference request is an object with 'inputs': [...].")
    parameters = document.get("parameters")
    if parameters is not None and not isinstance(parameters, dict):
        raise BadRequest("Invalid input. 'parameters' must be an object.")
    parameters = parameters or {}
    inputs = {}
    offset = 0
    for spec in document["inputs"]:
        name, tensor, offset = _tensor(spec, max_rows, binary, offset)
        inputs[name] = tensor
    if binary is not None and offset != len(binary):
        raise BadRequest(
            f"Invalid input. The binary part holds {len(binary)} bytes; the inputs' "
            f"binary_data_size add up to {offset}."
        )
    request_id = document.get("id")
    outputs = _requested_outputs(document.get("outputs"))
    return infer_request(
        None if request_id is None else str(request_id), inputs, parameters, outputs
    )


def infer_request(
    request_id: str | None,
    inputs: dict[str, np.ndarray],
    parameters: dict[str, Any],
    outputs: tuple[RequestedOutput, ...] | None,
) -> InferRequest:
    """An InferRequest of decoded tensors, its protocol parameters kept from the model's params.

    Raises:
        BadRequest: there is no input tensor.
    """
    if not inputs:
        raise BadRequest("Invalid input. 'inputs' must hold at least one tensor.")
    model_params = {k: v for k, v in parameters.items() if k not in _PROTOCOL_PARAMETERS}
    binary_output = parameters.get("binary_data_output") is True
    return InferRequest(request_id, inputs, model_params or None, outputs, binary_output)


def _requested_outputs(outputs: Any) -> tuple[RequestedOutput, ...] | None:
    # An empty list asks for nothing in particular: the model's default outputs, as if absent.
    if outputs is None or outputs == []:
        return None
    if not isinstance(outputs, list) or not all(
        isinstance(o, dict) and isinstance(o.get("name"), str) for o in outputs
    ):
        raise BadRequest("Invalid input. 'outputs' must be a list of objects with a 'name'.")
    requested = []
    for output in outputs:
        parameters = output.get("parameters") or {}
        binary = parameters.get("binary_data") if isinstance(parameters, dict) else None
        requested.append(
            RequestedOutput(output["name"], binary if binary is None else bool(binary))
        )
    return tuple(requested)


def _tensor(
    spec: Any, max_rows: int | None, binary: memoryview | None, offset: int
) -> tuple[str, np.ndarray, int]:
    if not isinstance(spec, dict):
        raise BadRequest("Invalid input. Each input is an object with name, shape, datatype, data.")
    size = _binary_size(spec)
    required = ("name", "shape", "datatype") if size is not None else _TENSOR_FIELDS
    missing = [k for k in required if k not in spec]
    if missing:
        raise BadRequest(f"Invalid input. Input tensor is missing {missing}.")
    name = str(spec["name"])
    raw = None
    if size is not None:
        if binary is None or offset + size > len(binary):
            raise BadRequest(
                f"Invalid input. Input '{name}' declares binary_data_size {size}, but the body "
                f"has no binary data for it (send {v2_binary.HEADER_LENGTH})."
            )
        raw = binary[offset : offset + size]
    array = input_tensor(name, spec["datatype"], spec["shape"], max_rows, spec.get("data"), raw)
    return name, array, offset + (size or 0)


def input_tensor(
    name: str,
    datatype: Any,
    shape: Any,
    max_rows: int | None,
    data: Any = None,
    raw: memoryview | bytes | None = None,
) -> np.ndarray:
    """One input tensor from its values (``data``, flat or nested) or its ``raw`` bytes.

    ``raw`` is the binary tensor layout (``v2_binary``), also gRPC's ``raw_input_contents``.

    Raises:
        BadRequest: an unknown datatype, a malformed shape, a first dimension over
            ``max_rows``, or data that is not of the datatype or does not fill the shape.
        InvalidParameter: an integer out of the datatype's range (300 as INT8, -1 as UINT64).
    """
    if datatype not in _DTYPES:
        raise BadRequest(
            f"Invalid input. Input '{name}': unknown datatype {datatype!r}; "
            f"expected one of {sorted(_DTYPES)}."
        )
    if not isinstance(shape, list) or not all(isinstance(d, int) and d >= 0 for d in shape):
        raise BadRequest(f"Invalid input. Input '{name}': shape must be a list of sizes.")
    check_rows(shape[0] if shape else 1, max_rows)
    if raw is not None:
        array: np.ndarray = v2_binary.decode_tensor(
            name, memoryview(raw), datatype, _DTYPES[datatype], shape
        )
        return array
    try:
        flat = np.asarray(data, dtype=_DTYPES[datatype]).reshape(-1)
    except OverflowError as err:  # numpy 2: an integer out of the datatype's range
        raise InvalidParameter(
            f"Invalid input. Input '{name}': a value is out of the range of {datatype}: {err}"
        ) from None
    except (ValueError, TypeError) as err:
        raise BadRequest(f"Invalid input. Input '{name}': data is not {datatype}: {err}") from None
    if flat.size != math.prod(shape):
        raise BadRequest(
            f"Invalid input. Input '{name}': shape {shape} needs {math.prod(shape)} values, "
            f"data has {flat.size}."
        )
    return flat.reshape(shape)


_TENSOR_FIELDS = ("name", "shape", "datatype", "data")


def _binary_size(spec: dict[str, Any]) -> int | None:
    parameters = spec.get("parameters")
    size = parameters.get("binary_data_size") if isinstance(parameters, dict) else None
    if size is None:
        return None
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise BadRequest(
            f"Invalid input. Input '{spec.get('name')}': binary_data_size must be a size in bytes."
        )
    return size


def infer_response(
    model_name: str,
    model_version: str,
    req: InferRequest,
    predictions: Any,
    names: list[str] | None = None,
    methods: dict[str, Any] | None = None,
) -> tuple[bytes, int | None]:
    """The V2 inference response body, and its JSON header's length when outputs are binary.

    ``names`` are the signature's output names, used to name a single array output (or each
    column of a 2-D one); ``predictions`` is None when the request asks only for method
    outputs. ``methods`` maps a method name (``predict_proba``) to what that method returned:
    one output of that name each. Only the outputs ``req`` asks for are sent, in its order.

    Raises:
        BadRequest: the request asks for an output the model does not produce.
    """
    tensors = response_tensors(req, predictions, names, methods)
    chunks: list[bytes] = []
    outputs = []
    for tensor, binary in tensors:
        wants_binary = req.binary_output if binary is None else binary
        if wants_binary:
            raw = v2_binary.encode_tensor(tensor.datatype, tensor.data)
            chunks.append(raw)
            outputs.append(tensor.header({"binary_data_size": len(raw)}))
        else:
            outputs.append(tensor.as_json())
    body: dict[str, Any] = {
        "model_name": model_name,
        "model_version": model_version,
        "outputs": outputs,
    }
    if req.id is not None:
        body["id"] = req.id
    header = jsoncodec.dumps(body)
    if not chunks:
        return header, None
    return header + b"".join(chunks), len(header)


def response_tensors(
    req: InferRequest,
    predictions: Any,
    names: list[str] | None = None,
    methods: dict[str, Any] | None = None,
) -> list[tuple[_Tensor, bool | None]]:
    """The output tensors ``req`` asks for, in its order, each with its ``binary_data`` wish.

    Arguments as ``infer_response``'s; a tensor's ``data`` is flat.

    Raises:
        BadRequest: the request asks for an output the model does not produce.
    """
    produced = [] if predictions is None else _tensors(predictions, names)
    by_method = [_output(method, np.asarray(out)) for method, out in (methods or {}).items()]
    return _select(produced, by_method, req.outputs)


def infer_response_body(
    model_name: str, model_version: str, request_id: str | None, predictions: Any
) -> bytes:
    """The V2 JSON inference response with every output: one tensor per prediction column."""
    req = InferRequest(request_id, {}, None)
    return infer_response(model_name, model_version, req, predictions)[0]


@dataclasses.dataclass(frozen=True, slots=True)
class _Tensor:
    name: str
    datatype: str
    shape: list[int]
    data: np.ndarray  # flat

    def header(self, parameters: dict[str, Any]) -> dict[str, Any]:
        return {
            "name": self.name,
            "shape": self.shape,
            "datatype": self.datatype,
            "parameters": parameters,
        }

    def as_json(self) -> dict[str, Any]:
        data = self.data
        return {
            "name": self.name,
            "shape": self.shape,
            "datatype": self.datatype,
            "data": _texts(data) if self.datatype == "BYTES" else np.ascontiguousarray(data),
        }


def _texts(data: np.ndarray) -> list[Any]:
    # JSON carries text only; binary outputs carry bytes as they are.
    return [v.decode("utf-8", "replace") if isinstance(v, bytes) else v for v in data.tolist()]


def output_tensors(predictions: Any, names: list[str] | None = None) -> list[dict[str, Any]]:
    """Shape a model's output as V2 JSON output tensors (a DataFrame gives one per column)."""
    return [t.as_json() for t in _tensors(predictions, names)]


def _tensors(predictions: Any, names: list[str] | None) -> list[_Tensor]:
    if isinstance(predictions, pd.DataFrame):
        return [_output(str(col), predictions[col].to_numpy()) for col in predictions.columns]
    if isinstance(predictions, pd.Series):
        predictions = predictions.to_numpy()
    array = np.asarray(predictions)
    if names and len(names) > 1 and array.ndim == 2 and array.shape[1] == len(names):
        return [_output(name, array[:, i]) for i, name in enumerate(names)]
    return [_output(names[0] if names and len(names) == 1 else DEFAULT_OUTPUT, array)]


DEFAULT_OUTPUT = "predict"
"""The name of a model's output when its signature names none (MLServer's method name)."""

METHOD_OUTPUTS = ("predict_proba", "predict_log_proba", "predict_joint_log_proba")
"""Outputs a request may ask for by a classifier's method name, as MLServer's runtimes answer."""


def method_outputs(req: InferRequest, names: list[str] | None) -> list[str]:
    """The requested outputs that name a prediction method, not one of the signature's outputs.

    ``predict`` is not among them: it names the model's own output (``DEFAULT_OUTPUT``).
    """
    taken = set(names or ())
    asked = [o.name for o in req.outputs or ()]
    return [n for n in dict.fromkeys(asked) if n in METHOD_OUTPUTS and n not in taken]


def _select(
    tensors: list[_Tensor],
    by_method: list[_Tensor],
    requested: tuple[RequestedOutput, ...] | None,
) -> list[tuple[_Tensor, bool | None]]:
    if requested is None:
        return [(t, None) for t in tensors + by_method]
    by_name = {t.name: t for t in tensors}
    if len(tensors) == 1:
        by_name.setdefault(DEFAULT_OUTPUT, tensors[0])
    by_name.update({t.name: t for t in by_method})
    unknown = [r.name for r in requested if r.name not in by_name]
    if unknown:
        raise BadRequest(
            f"Invalid input. Unknown output(s) {', '.join(map(repr, unknown))}: the model "
            f"produces {', '.join(map(repr, by_name))}."
        )
    return [(_renamed(by_name[r.name], r.name), r.binary) for r in requested]


def _renamed(tensor: _Tensor, name: str) -> _Tensor:
    return tensor if tensor.name == name else dataclasses.replace(tensor, name=name)


def _output(name: str, array: np.ndarray) -> _Tensor:
    datatype = _DATATYPES.get(array.dtype, "BYTES")
    data = array.reshape(-1)
    if datatype == "BYTES":
        data = np.asarray(
            [v if isinstance(v, bytes | str) else str(v) for v in data.tolist()], dtype=object
        )
    return _Tensor(name, datatype, list(array.shape), data)


def tensor_metadata(schema: Schema | None, output: bool = False) -> list[dict[str, Any]]:
    """V2 metadata tensors (name, datatype, shape) of a signature's inputs or outputs schema.

    A column is a 1-D tensor of any length named after the column (its position when
    unnamed); a tensor spec keeps its dtype and shape (``input-0``, ... when unnamed). Outputs
    the signature does not name are one tensor, ``predict``, as inference answers them.
    """
    if schema is None or not schema.specs:
        return []
    if output and output_names(schema) is None:
        return [{**_spec_metadata(0, schema.specs[0]), "name": DEFAULT_OUTPUT}]
    return [_spec_metadata(i, spec) for i, spec in enumerate(schema.specs)]


def _spec_metadata(i: int, spec: ColSpec | TensorSpec) -> dict[str, Any]:
    if isinstance(spec, TensorSpec):
        name = spec.name or f"input-{i}"
        return {"name": name, "datatype": _datatype_of_dtype(spec.dtype), "shape": list(spec.shape)}
    name = spec.name if spec.name is not None else str(i)
    return {"name": name, "datatype": datatype_of(spec.type), "shape": [-1]}


def _datatype_of_dtype(dtype: str) -> str:
    try:
        return _DATATYPES.get(np.dtype(dtype), "BYTES")
    except TypeError:
        return "BYTES"


def output_names(schema: Schema | None) -> list[str] | None:
    """The names a signature's outputs schema gives the model's output tensors, if any."""
    if schema is None or not schema.specs:
        return None
    names = [spec.name for spec in schema.specs]
    return None if any(n is None for n in names) else [str(n) for n in names]


def datatype_of(type_name: str) -> str:
    """The V2 datatype of an MLflow column type name (``double``, ``long``, ``string``, ...)."""
    return {
        "double": "FP64",
        "float": "FP32",
        "long": "INT64",
        "integer": "INT32",
        "boolean": "BOOL",
    }.get(type_name, "BYTES")
