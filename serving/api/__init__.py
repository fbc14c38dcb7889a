"""HTTP views of the serving process, one blueprint per protocol."""

from __future__ import annotations

import dataclasses
from typing import Any

from flask import current_app, g, request

from registry.errors import BadRequest, ModelNotReady, NotFound
from serving import metrics, scoring
from serving.batching import MicroBatcher
from serving.config import ServingConfig
from serving.loader import LoadedModel
from serving.models import ModelTable, current_of
from serving.protocols.encoding import decode_body
from serving.protocols.mlflow import CONTENT_TYPE_CSV, parse_invocation

MODEL_HEADER = "X-Model-Name"
"""The request header naming the model ``/invocations`` predicts with."""


@dataclasses.dataclass
class ServingState:
    """What a worker shares between requests: config, the models, the batcher thread."""

    config: ServingConfig
    table: ModelTable
    batcher: MicroBatcher | None
    grpc_server: Any = None

    def start(self) -> None:
        """Start the watcher and batcher threads and publish the models (once per worker)."""
        self.table.start()
        if self.batcher is not None:
            self.batcher.start()

    def stop_grpc(self, grace: float) -> None:
        """Stop taking gRPC calls and let those in flight finish for up to ``grace`` seconds."""
        if self.grpc_server is not None:
            self.grpc_server.stop(grace).wait(grace)
            self.grpc_server = None


def state() -> ServingState:
    """The worker's ServingState."""
    serving_state: ServingState = current_app.extensions["serving"]
    return serving_state


def model(name: str | None = None, version: str | None = None) -> LoadedModel:
    """The model for this request: taken once, so a swap mid-request cannot mix versions.

    Args:
        name: the model's name; None for the only model served.
        version: the version the request asks for, if any.

    Raises:
        NotFound: no model (or version) of that name is served.
        BadRequest: several models are served and the request names none.
        ModelNotReady: the model is not loaded yet.
    """
    table = state().table
    served = table.single if name is None else table.get(name)
    if served is None:
        if name is None:
            raise BadRequest(
                f"Several models are served here: name one in the {MODEL_HEADER} header"
                " (or the path /invocations/{name})."
            )
        raise NotFound(f"Model '{name}' is not served here.")
    g.model_name = served.name
    taken = table.take(served, version)  # retried once when a change replaced it just now
    g.model = taken
    return taken


def require_every_model() -> None:
    """Return once every model that should be loaded is (what the server readiness probes say).

    Raises:
        ModelNotReady: naming the models not loaded yet (with its load error, for one).
    """
    table = state().table
    if table.ready():
        return
    waiting = table.waiting()
    if len(waiting) == 1:
        current_of(waiting[0])  # raises, with the model's load error
    elif waiting:
        names = ", ".join(m.name for m in waiting)
        raise ModelNotReady(f"Models not loaded yet: {names}.")


def request_body() -> bytes:
    """The request's body, decompressed when it has a ``Content-Encoding`` (gzip, deflate).

    Raises:
        UnsupportedMediaType: the body's coding is not one we read.
        PayloadTooLarge: decompressed, it is over ``SERVING_MAX_REQUEST_BYTES``.
        BadRequest: the compressed data is corrupt.
    """
    body = request.get_data(cache=False)
    encoding = request.headers.get("Content-Encoding")
    if encoding is None:
        return body
    return decode_body(body, encoding, state().config.max_request_bytes)


def predict_invocation(served: LoadedModel, content_type: str | None) -> Invocation:
    """Decode an MLflow-style body (JSON or CSV) and predict on it, as ``/invocations`` does.

    Raises:
        RegistryError: as ``parse_invocation`` and ``scoring.predict`` raise for a bad request.
    """
    done = invoke(state(), served, request_body(), content_type)
    metrics.count_rows(g.model_name, done.rows)
    return done


def invoke(
    serving_state: ServingState, served: LoadedModel, body: bytes, content_type: str | None
) -> Invocation:
    """Predict on an ``/invocations`` body (decompressed already) with ``served``.

    Raises:
        RegistryError: as ``parse_invocation`` and ``scoring.predict`` raise for a bad request.
    """
    predictor = served.predictor
    config = serving_state.config
    is_csv = (content_type or "").startswith(CONTENT_TYPE_CSV)
    dtypes = predictor.csv_dtypes if is_csv else None
    inp = parse_invocation(body, content_type, config.max_request_rows, dtypes)
    inp, warning = scoring.with_input_params(inp, predictor)
    drop = config.extra_columns == "drop"
    predictions = scoring.predict(predictor, inp, drop_extra=drop, batcher=serving_state.batcher)
    return Invocation(predictions, inp.kind, warning, inp.row_count)


@dataclasses.dataclass(frozen=True)
class Invocation:
    """What ``invoke`` found: the predictions, the input's kind, a Warning value, the rows."""

    predictions: Any
    kind: str
    warning: str | None
    rows: int
