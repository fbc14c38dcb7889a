"""MLflow's scoring endpoints: ``/invocations``, ``/ping``, ``/health``, ``/version``."""

from __future__ import annotations

from flask import Blueprint, Response, request

from serving import metrics, scoring
from serving.api import model, request_body, state
from serving.protocols import jsoncodec
from serving.protocols.mlflow import CONTENT_TYPE_CSV, parse_invocation, predictions_body

bp = Blueprint("mlflow", __name__)

MLFLOW_PROTOCOL_VERSION = "3.17.2"


@bp.post("/invocations")
def invocations() -> Response:
    """Predict on a JSON or CSV body; answer ``{"predictions": [...]}``."""
    served = model()
    predictor = served.predictor
    config = state().config
    content_type = request.content_type
    is_csv = (content_type or "").startswith(CONTENT_TYPE_CSV)
    dtypes = predictor.csv_dtypes if is_csv else None
    inp = parse_invocation(request_body(), content_type, config.max_request_rows, dtypes)
    inp, warning = scoring.with_input_params(inp, predictor)
    drop = config.extra_columns == "drop"
    predictions = scoring.predict(predictor, inp, drop_extra=drop, batcher=state().batcher)
    metrics.ROWS.inc(inp.row_count)
    response = Response(
        predictions_body(predictions, wrapped=inp.kind != "llm"), mimetype="application/json"
    )
    if warning is not None:
        response.headers["Warning"] = warning
    return response


@bp.get("/ping")
def ping() -> Response:
    """200 once the model is loaded, 503 ``MODEL_NOT_READY`` before."""
    model()
    return Response("\n", mimetype="application/json")


@bp.get("/health")
def health() -> Response:
    """Like ``/ping``; the body also says which version serves and any failed reload."""
    served = model()
    slot = state().slot
    body = {
        "status": "OK",
        "model_uri": served.uri,
        "model_name": served.name,
        "model_version": served.version,
        "run_id": served.run_id,
        "model_id": served.model_id,
        "failed_version": slot.failed_version or None,
        "load_error": slot.load_error or None,
    }
    return Response(jsoncodec.dumps(body), mimetype="application/json")


@bp.get("/version")
def version() -> Response:
    """The MLflow scoring-protocol version this server speaks (MLflow answers its version)."""
    return Response(MLFLOW_PROTOCOL_VERSION, mimetype="text/plain")
