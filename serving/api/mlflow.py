"""MLflow's scoring endpoints: ``/invocations[/{name}]``, ``/ping``, ``/health``, ``/version``."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request

from serving.api import MODEL_HEADER, model, predict_invocation, require_every_model, state
from serving.models import ServedModel
from serving.protocols import jsoncodec
from serving.protocols.mlflow import predictions_body

bp = Blueprint("mlflow", __name__)

MLFLOW_PROTOCOL_VERSION = "3.17.2"


@bp.post("/invocations")
@bp.post("/invocations/<name>")
def invocations(name: str | None = None) -> Response:
    """Predict on a JSON or CSV body; answer ``{"predictions": [...]}``.

    The model is the one in the path, else the one the ``X-Model-Name`` header names, else the
    only one served.
    """
    served = model(name or request.headers.get(MODEL_HEADER))
    done = predict_invocation(served, request.content_type)
    body = predictions_body(done.predictions, wrapped=done.kind != "llm")
    response = Response(body, mimetype="application/json")
    if done.warning is not None:
        response.headers["Warning"] = done.warning
    return response


@bp.get("/ping")
def ping() -> Response:
    """200 once every model is loaded, 503 ``MODEL_NOT_READY`` before."""
    require_every_model()
    return Response("\n", mimetype="application/json")


@bp.get("/health")
def health() -> Response:
    """Like ``/ping``; the body also says which versions serve and any failed reload.

    With one model, its fields are also at the top level (as before several could be served).
    """
    require_every_model()
    models = [_health(served) for served in state().table.served()]
    body: dict[str, Any] = {"status": "OK"}
    if len(models) == 1:
        body.update(models[0])
    body["models"] = models
    return Response(jsoncodec.dumps(body), mimetype="application/json")


def _health(served: ServedModel) -> dict[str, Any]:
    current = served.slot.current
    state_name, _ = served.state()
    return {
        "name": served.name,
        "state": state_name,
        "model_uri": served.uri,
        "model_name": current.name if current else None,
        "model_version": current.version if current else None,
        "run_id": current.run_id if current else None,
        "model_id": current.model_id if current else None,
        "failed_version": served.slot.failed_version or None,
        "load_error": served.slot.load_error or None,
    }


@bp.get("/version")
def version() -> Response:
    """The MLflow scoring-protocol version this server speaks (MLflow answers its version)."""
    return Response(MLFLOW_PROTOCOL_VERSION, mimetype="text/plain")
