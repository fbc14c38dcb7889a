"""Open Inference Protocol V2: health, model metadata and ``infer``."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
from flask import Blueprint, Response, request

from registry.errors import NotFound
from serving import metrics, scoring
from serving.api import model, request_body, state
from serving.loader import LoadedModel
from serving.protocols import jsoncodec
from serving.protocols.mlflow import Invocation
from serving.protocols.v2 import (
    InferRequest,
    infer_response,
    output_names,
    parse_infer_request,
    tensor_metadata,
)
from serving.protocols.v2_binary import EXTENSION, HEADER_LENGTH
from serving.version import __version__

bp = Blueprint("v2", __name__, url_prefix="/v2")


def _json(body: Any) -> Response:
    return Response(jsoncodec.dumps(body), mimetype="application/json")


def model_name() -> str:
    """The name V2 paths use for the served model."""
    config = state().config
    current = state().slot.current
    return config.model_name or (current.name if current and current.name else "model")


def _named(name: str, version: str | None = None) -> LoadedModel:
    served = model()
    if name != model_name():
        raise NotFound(f"Model '{name}' is not served here; this server serves '{model_name()}'.")
    if version is not None and version != served.version:
        raise NotFound(f"Model '{name}' version '{version}' is not served; {served.version} is.")
    return served


@bp.get("")
def server_metadata() -> Response:
    """Server metadata: name, version and protocol extensions."""
    return _json({"name": "modelyard", "version": __version__, "extensions": [EXTENSION]})


@bp.get("/health/live")
def live() -> Response:
    """200 while the process runs."""
    return _json({"live": True})


@bp.get("/health/ready")
def ready() -> Response:
    """200 once the model is loaded, 503 before."""
    model()
    return _json({"ready": True})


@bp.get("/models/<name>/ready")
@bp.get("/models/<name>/versions/<version>/ready")
def model_ready(name: str, version: str | None = None) -> Response:
    """200 when this model (and version) is loaded and served."""
    _named(name, version)
    return _json({"name": name, "ready": True})


@bp.get("/models/<name>")
@bp.get("/models/<name>/versions/<version>")
def model_metadata(name: str, version: str | None = None) -> Response:
    """Name, versions, platform and the input and output tensors of the model's signature."""
    served = _named(name, version)
    signature = served.predictor.signature
    return _json(
        {
            "name": name,
            "versions": [served.version],
            "platform": "mlflow",
            "inputs": tensor_metadata(signature.inputs if signature else None),
            "outputs": tensor_metadata(signature.outputs if signature else None, output=True),
        }
    )


@bp.post("/models/<name>/infer")
@bp.post("/models/<name>/versions/<version>/infer")
def infer(name: str, version: str | None = None) -> Response:
    """Predict on V2 input tensors; one tensor is the whole input, several are named columns."""
    served = _named(name, version)
    req = parse_infer_request(
        request_body(), state().config.max_request_rows, request.headers.get(HEADER_LENGTH)
    )
    predictor = served.predictor
    params, warning = scoring.with_params(req.parameters, predictor)
    if params is not req.parameters:
        req = dataclasses.replace(req, parameters=params or None)
    tensor = _single_tensor(req, predictor.input_columns)
    if tensor is not None and not predictor.needs_dataframe and not req.parameters:
        predictions = scoring.guarded(predictor.predict_array, tensor, None)
    else:
        predictions = scoring.predict(predictor, _as_invocation(req, predictor.input_columns))
    metrics.ROWS.inc(_rows(req))
    signature = predictor.signature
    names = output_names(signature.outputs if signature else None)
    body, header_length = infer_response(name, served.version, req, predictions, names)
    if header_length is None:
        response = Response(body, mimetype="application/json")
    else:
        response = Response(body, mimetype="application/octet-stream")
        response.headers[HEADER_LENGTH] = str(header_length)
    if warning is not None:
        response.headers["Warning"] = warning
    return response


def _single_tensor(req: InferRequest, columns: list[str] | None) -> np.ndarray | None:
    """The one input tensor when it is the whole model input, not a named column."""
    if len(req.inputs) != 1:
        return None
    name, tensor = next(iter(req.inputs.items()))
    if columns is not None and (name in columns or tensor.ndim != 2):
        return None
    if columns is not None and tensor.shape[1] != len(columns):
        return None
    return tensor if tensor.dtype.kind in "fiub" else None


def _as_invocation(req: InferRequest, columns: list[str] | None) -> Invocation:
    if len(req.inputs) == 1:
        name, tensor = next(iter(req.inputs.items()))
        if columns is None or name not in columns:
            if tensor.ndim == 2 and columns is not None and tensor.shape[1] == len(columns):
                return Invocation("rows", tensor.tolist(), columns=columns, params=req.parameters)
            return Invocation("tensor", tensor.tolist(), params=req.parameters)
    data = {name: _column(tensor) for name, tensor in req.inputs.items()}
    return Invocation("columns", data, params=req.parameters)


def _column(tensor: np.ndarray) -> list[Any]:
    column: list[Any] = tensor.reshape(-1).tolist()
    return column


def _rows(req: InferRequest) -> int:
    return max((t.shape[0] if t.ndim else 1 for t in req.inputs.values()), default=0)
