"""Open Inference Protocol V2: health, model metadata and ``infer``."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request

from serving import v2_infer
from serving.api import model, request_body, require_every_model, state
from serving.protocols import jsoncodec
from serving.protocols.v2 import (
    EXTENSIONS,
    infer_response,
    parse_infer_request,
    tensor_metadata,
)
from serving.protocols.v2_binary import HEADER_LENGTH
from serving.version import __version__

bp = Blueprint("v2", __name__, url_prefix="/v2")


def _json(body: Any) -> Response:
    return Response(jsoncodec.dumps(body), mimetype="application/json")


@bp.get("")
def server_metadata() -> Response:
    """Server metadata: name, version and protocol extensions."""
    extensions = list(EXTENSIONS)
    return _json({"name": "modelyard", "version": __version__, "extensions": extensions})


@bp.get("/health/live")
def live() -> Response:
    """200 while the process runs."""
    return _json({"live": True})


@bp.get("/health/ready")
def ready() -> Response:
    """200 once every model is loaded, 503 before."""
    require_every_model()
    return _json({"ready": True})


@bp.get("/models/<name>/ready")
@bp.get("/models/<name>/versions/<version>/ready")
def model_ready(name: str, version: str | None = None) -> Response:
    """200 when this model (and version) is loaded and served."""
    model(name, version)
    return _json({"name": name, "ready": True})


@bp.get("/models/<name>")
@bp.get("/models/<name>/versions/<version>")
def model_metadata(name: str, version: str | None = None) -> Response:
    """Name, versions, platform and the input and output tensors of the model's signature."""
    served = model(name, version)
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
    served = model(name, version)
    serving_state = state()
    req = parse_infer_request(
        request_body(), serving_state.config.max_request_rows, request.headers.get(HEADER_LENGTH)
    )
    done = v2_infer.infer(name, served, req, serving_state.batcher)
    body, header_length = infer_response(
        name, served.version, req, done.predictions, done.names, done.methods
    )
    if header_length is None:
        response = Response(body, mimetype="application/json")
    else:
        response = Response(body, mimetype="application/octet-stream")
        response.headers[HEADER_LENGTH] = str(header_length)
    if done.warning is not None:
        response.headers["Warning"] = done.warning
    return response
