"""KServe's V1 protocol (TensorFlow Serving's REST API): list, readiness and ``:predict``.

``POST /v1/models/{name}:predict`` takes ``{"instances": [...]}`` (or ``{"inputs": ...}``, or
any other body ``/invocations`` reads) and answers ``{"predictions": [...]}``.
"""

from __future__ import annotations

from flask import Blueprint, Response
from werkzeug.exceptions import MethodNotAllowed

from serving.api import model, predict_invocation, state
from serving.protocols import jsoncodec
from serving.protocols.mlflow import CONTENT_TYPE_JSON, predictions_body

bp = Blueprint("kserve_v1", __name__, url_prefix="/v1")

PREDICT_SUFFIX = ":predict"


@bp.get("/models")
def list_models() -> Response:
    """The names of the models served: ``{"models": [...]}``."""
    body = {"models": state().table.names()}
    return Response(jsoncodec.dumps(body), mimetype=CONTENT_TYPE_JSON)


@bp.get("/models/<name>")
def model_ready(name: str) -> Response:
    """``{"name", "ready": true}`` once the model is loaded; 503 before, 404 if unknown.

    ``GET /v1/models/{name}:predict`` lands here too (a name may hold a colon): it is the
    predict route asked with the wrong method, so it answers 405.
    """
    if name.endswith(PREDICT_SUFFIX):
        raise MethodNotAllowed(valid_methods=["POST"])
    model(name)
    return Response(jsoncodec.dumps({"name": name, "ready": True}), mimetype=CONTENT_TYPE_JSON)


@bp.post(f"/models/<name>{PREDICT_SUFFIX}")
def predict(name: str) -> Response:
    """Predict on ``{"instances": [...]}``; answer ``{"predictions": [...]}`` (JSON only)."""
    served = model(name)
    done = predict_invocation(served, CONTENT_TYPE_JSON)
    response = Response(predictions_body(done.predictions), mimetype=CONTENT_TYPE_JSON)
    if done.warning is not None:
        response.headers["Warning"] = done.warning
    return response
