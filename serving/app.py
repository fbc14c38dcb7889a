"""The serving app: ``create_app(config)`` builds the Flask app of one worker."""

from __future__ import annotations

import logging
import time

from flask import Flask, Response, g, request
from flask.globals import app_ctx, request_ctx

from registry.errors import PayloadTooLarge, error_reply
from serving import metrics
from serving.api import ServingState, kserve_v1, mlflow, ops, repository, state, v2
from serving.batching import MicroBatcher
from serving.config import ServingConfig
from serving.fastpath import FastInvocations
from serving.loader import LoadedModel
from serving.models import ModelTable
from serving.protocols import encoding, jsoncodec

logger = logging.getLogger(__name__)

_PREDICTION_ROUTES = frozenset(
    {
        "/invocations",
        "/invocations/<name>",
        "/v2/models/<name>/infer",
        "/v2/models/<name>/versions/<version>/infer",
        "/v1/models/<name>:predict",
    }
)


def create_app(
    config: ServingConfig,
    model: LoadedModel | None = None,
    start: bool = True,
    table: ModelTable | None = None,
) -> Flask:
    """Build the app serving the models ``config`` names.

    Args:
        config: the process configuration.
        model: the URI argument's model, loaded already (before fork); None loads it in the
            background, and ``/health`` answers 503 until it is ready.
        start: start the background threads now; gunicorn passes False when the app is built
            before fork and starts them in each worker (``ServingState.start``).
        table: the models, built already (``modelyard serve`` builds it in the master);
            None builds it from ``config`` and ``model``.
    """
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = config.max_request_bytes
    if table is None:
        table = ModelTable.from_config(config, model)
    batcher = (
        MicroBatcher(config.batch_max_latency_ms, config.batch_max_rows)
        if config.batch_max_latency_ms > 0
        else None
    )
    serving_state = ServingState(config, table, batcher)
    app.extensions["serving"] = serving_state
    for blueprint in (mlflow.bp, v2.bp, repository.bp, kserve_v1.bp, ops.bp):
        app.register_blueprint(blueprint)
    app.before_request(_before)
    app.after_request(_after)
    app.teardown_request(_teardown)
    app.register_error_handler(Exception, _error_response)
    app.wsgi_app = FastInvocations(app.wsgi_app, serving_state)  # type: ignore[method-assign]
    if start:
        serving_state.start()
    return app


def _before() -> None:
    # The proxies (request, g) cost a lookup per use: each hook takes the objects once.
    req = request_ctx.request
    ctx_g = app_ctx.g
    ctx_g.started = time.perf_counter()
    rule = req.url_rule
    if rule is not None and rule.rule in _PREDICTION_ROUTES:
        metrics.IN_FLIGHT.inc()
        ctx_g.in_flight = True
    limit = req.max_content_length
    length = req.content_length
    if limit is not None and length is None and req.environ.get("wsgi.input_terminated"):
        # A chunked body: Werkzeug silently cuts it at the limit, so read one byte past it to
        # tell a body that fits from one that does not (the views then read the cached copy).
        req.max_content_length = limit + 1
        length = len(req.get_data(cache=True))
    if limit is not None and (length or 0) > limit:
        raise PayloadTooLarge(
            f"The request body is over the limit of {limit} bytes (SERVING_MAX_REQUEST_BYTES)."
        )


def _after(response: Response) -> Response:
    req = request_ctx.request
    ctx_g = app_ctx.g
    served = ctx_g.get("model")
    if served is None:
        single = state().table.single
        served = single.slot.current if single is not None else None
    if served is not None:
        headers = response.headers
        headers["X-Model-Version"] = served.version
        headers["X-Model-Run-Id"] = served.run_id
    rule = req.url_rule
    route = rule.rule if rule is not None else "<unmatched>"
    status = response.status_code
    failed = status >= 400 and route in _PREDICTION_ROUTES
    metrics.record_request(
        route,
        req.method,
        str(status),
        ctx_g.get("model_name", ""),
        time.perf_counter() - ctx_g.get("started", 0.0),
        ctx_g.get("error_code", str(status)) if failed else None,
    )
    accept = req.headers.get("Accept-Encoding")
    if accept is not None:
        _compress(response, accept)
    return response


def _teardown(_: BaseException | None) -> None:
    if g.pop("in_flight", False):
        metrics.IN_FLIGHT.dec()


def _compress(response: Response, accept: str) -> None:
    response.vary.add("Accept-Encoding")
    coding = encoding.response_coding(accept)
    if (
        coding is None
        or response.direct_passthrough
        or "Content-Encoding" in response.headers
        or (response.content_length or 0) < encoding.MIN_COMPRESSED_BYTES
    ):
        return
    response.set_data(encoding.encode_body(response.get_data(), coding))
    response.headers["Content-Encoding"] = coding


def _error_response(exc: BaseException) -> Response:
    # The one error body (registry.errors.error_reply); the Open Inference Protocol's and
    # KServe V1's routes add {"error": "..."}, the body their clients read.
    oip = request.path.startswith(("/v2", "/v1"))
    reply = error_reply(exc, oip=oip, where=f"{request.method} {request.path}")
    response = Response(jsoncodec.dumps(reply.body), status=reply.status, headers=reply.headers)
    response.mimetype = "application/json"
    g.error_code = reply.body["error_code"]
    return response
