"""The RPCs of ``inference.GRPCInferenceService``, over the models a ``ModelLookup`` serves.

Each RPC decodes its message, finds its model, and answers; our errors become the call's status
(``status.py``). Metrics are the HTTP routes': a request counter and a latency histogram by RPC
(method ``GRPC``, status the HTTP status our error carries), rows predicted and prediction errors
by model.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import grpc

from registry.errors import ModelNotReady
from serving import metrics, v2_infer
from serving.config import ServingConfig
from serving.grpc import stubs
from serving.grpc.status import ERROR_CODE_KEY, status_of
from serving.protocols.v2 import EXTENSIONS
from serving.protocols.v2_grpc import (
    model_infer_response,
    model_metadata_response,
    parse_model_infer_request,
    wants_raw,
)
from serving.version import __version__

if TYPE_CHECKING:
    from serving.batching import MicroBatcher
    from serving.grpc.server import ModelLookup

Rpc = Callable[[Any, grpc.ServicerContext], Any]

_ServerLiveResponse = stubs.message("ServerLiveResponse")
_ServerReadyResponse = stubs.message("ServerReadyResponse")
_ModelReadyResponse = stubs.message("ModelReadyResponse")
_ServerMetadataResponse = stubs.message("ServerMetadataResponse")


class InferenceServicer:
    """The implemented RPCs; the service's others answer UNIMPLEMENTED."""

    def __init__(
        self, config: ServingConfig, models: ModelLookup, batcher: MicroBatcher | None = None
    ) -> None:
        self.config = config
        self.models = models
        self.batcher = batcher

    def rpcs(self) -> dict[str, Rpc]:
        """The implementations by the service's method names."""
        return {
            "ServerLive": self.server_live,
            "ServerReady": self.server_ready,
            "ModelReady": self.model_ready,
            "ServerMetadata": self.server_metadata,
            "ModelMetadata": self.model_metadata,
            "ModelInfer": self.model_infer,
        }

    def server_live(self, request: Any, context: grpc.ServicerContext) -> Any:
        """Live while the process runs."""
        return _ServerLiveResponse(live=True)

    def server_ready(self, request: Any, context: grpc.ServicerContext) -> Any:
        """Ready once every model is loaded."""
        return _ServerReadyResponse(ready=self.models.ready())

    def model_ready(self, request: Any, context: grpc.ServicerContext) -> Any:
        """Whether the model (and version) is loaded; NOT_FOUND when it is not served here."""
        try:
            self.models.model(request.name, request.version or None)
        except ModelNotReady:
            return _ModelReadyResponse(ready=False)
        return _ModelReadyResponse(ready=True)

    def server_metadata(self, request: Any, context: grpc.ServicerContext) -> Any:
        """The server's name, version and protocol extensions, as ``GET /v2`` answers them."""
        return _ServerMetadataResponse(
            name="modelyard", version=__version__, extensions=list(EXTENSIONS)
        )

    def model_metadata(self, request: Any, context: grpc.ServicerContext) -> Any:
        """Name, version, platform and the signature's tensors, as ``GET /v2/models/{name}``."""
        served = self.models.model(request.name, request.version or None)
        return model_metadata_response(request.name, served.version, served.predictor.signature)

    def model_infer(self, request: Any, context: grpc.ServicerContext) -> Any:
        """Predict, as ``POST /v2/models/{name}/infer`` does, on the same decoded request."""
        name = request.model_name
        served = self.models.model(name, request.model_version or None)
        req = parse_model_infer_request(request, self.config.max_request_rows)
        done = v2_infer.infer(name, served, req, self.batcher)
        raw = wants_raw(request, req)
        response = model_infer_response(
            name, served.version, req, done.predictions, raw, done.names, done.methods
        )
        headers = [("x-model-version", served.version), ("x-model-run-id", served.run_id)]
        if done.warning is not None:  # metadata is ASCII; the names in it are the client's
            headers.append(("warning", done.warning.encode("ascii", "replace").decode()))
        context.send_initial_metadata(headers)
        return response

    def observed(self, method: str, rpc: Rpc) -> Rpc:
        """``rpc`` with metrics recorded and our errors turned into its status."""
        route = f"/{stubs.SERVICE}/{method}"
        predicts = method == "ModelInfer"

        def call(request: Any, context: grpc.ServicerContext) -> Any:
            started = time.perf_counter()
            if predicts:
                metrics.IN_FLIGHT.inc()
            try:
                response = rpc(request, context)
            except Exception as exc:
                code, reply = status_of(exc, route)
                self._record(route, request, str(reply.status), started, predicts, reply.body)
                context.set_trailing_metadata([(ERROR_CODE_KEY, reply.body["error_code"])])
                context.abort(code, reply.body["message"])
            finally:
                if predicts:
                    metrics.IN_FLIGHT.dec()
            self._record(route, request, "200", started, predicts, None)
            return response

        return call

    def _record(
        self,
        route: str,
        request: Any,
        status: str,
        started: float,
        predicts: bool,
        error: dict[str, Any] | None,
    ) -> None:
        # Only a served model's name becomes a label: a client's typo must not add a series.
        asked = getattr(request, "model_name", None) or getattr(request, "name", "")
        name = asked if asked and asked in self.models.names() else ""
        error_code = error["error_code"] if predicts and error is not None else None
        metrics.record_request(
            route, "GRPC", status, name, time.perf_counter() - started, error_code
        )
