"""Open Inference Protocol V2: health, model metadata and ``infer``."""

from __future__ import annotations

from typing import Any

import numpy as np
from flask import Blueprint, Response, request

from registry.errors import BadRequest
from registry.models.model_input import ModelInput
from serving import metrics, scoring
from serving.api import model, request_body, require_every_model, state
from serving.loader import Predictor
from serving.protocols import jsoncodec
from serving.protocols.v2 import (
    infer_response,
    method_outputs,
    output_names,
    parse_infer_request,
    tensor_metadata,
)
from serving.protocols.v2_binary import EXTENSION, HEADER_LENGTH
from serving.version import __version__

bp = Blueprint("v2", __name__, url_prefix="/v2")

REPOSITORY_EXTENSION = "model_repository"


def _json(body: Any) -> Response:
    return Response(jsoncodec.dumps(body), mimetype="application/json")


@bp.get("")
def server_metadata() -> Response:
    """Server metadata: name, version and protocol extensions."""
    extensions = [EXTENSION, REPOSITORY_EXTENSION]
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
    req = parse_infer_request(
        request_body(), state().config.max_request_rows, request.headers.get(HEADER_LENGTH)
    )
    predictor = served.predictor
    params, warning = scoring.with_params(req.parameters, predictor)
    inp = req.model_input().with_params(params)
    signature = predictor.signature
    names = output_names(signature.outputs if signature else None)
    methods = {m: _by_method(predictor, m, inp) for m in method_outputs(req, names)}
    only_methods = req.outputs is not None and len(methods) == len(req.outputs)
    predictions = None if only_methods else scoring.predict(predictor, inp)
    metrics.ROWS.labels(name).inc(inp.row_count)
    body, header_length = infer_response(name, served.version, req, predictions, names, methods)
    if header_length is None:
        response = Response(body, mimetype="application/json")
    else:
        response = Response(body, mimetype="application/octet-stream")
        response.headers[HEADER_LENGTH] = str(header_length)
    if warning is not None:
        response.headers["Warning"] = warning
    return response


def _by_method(predictor: Predictor, method: str, inp: ModelInput) -> Any:
    found = predictor.for_method(method)
    if found is None:
        raise BadRequest(
            f"Invalid input. Unknown output '{method}': the model has no {method} method."
        )
    out = scoring.predict(found, inp)
    try:
        return np.asarray(out)
    except ValueError as err:  # ragged, e.g. a multi-output classifier's per-target classes
        raise BadRequest(
            f"Invalid input. Output '{method}' of this model is not one tensor ({err});"
            " ask for another output."
        ) from None
