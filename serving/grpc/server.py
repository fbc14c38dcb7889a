"""The gRPC server of one serving worker: ``start(config, models)``.

Every gunicorn worker calls ``start`` after fork and binds the same ``host:grpc_port`` with
``SO_REUSEPORT``, so the kernel spreads connections over the workers as it does the HTTP port's.
Create no gRPC server before fork: gRPC's threads do not survive it.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

import grpc

from serving.batching import MicroBatcher
from serving.config import ServingConfig
from serving.grpc import stubs
from serving.grpc.servicer import InferenceServicer
from serving.loader import LoadedModel


class ModelLookup(Protocol):
    """The models a server answers for (``serving.models.ModelTable`` is one)."""

    def model(self, name: str, version: str | None = None) -> LoadedModel:
        """The model served as ``name`` now (of ``version``, when given).

        Raises:
            NotFound: no model of that name (or not that version) is served.
            ModelNotReady: the model is not loaded (yet, or any more).
        """

    def names(self) -> list[str]:
        """The names of the served models."""

    def ready(self) -> bool:
        """Whether every served model is loaded."""


def start(
    config: ServingConfig, models: ModelLookup, batcher: MicroBatcher | None = None
) -> grpc.Server:
    """Bind ``config.host:config.grpc_port`` and serve, on ``config.threads`` threads.

    ``ModelInfer`` predicts through ``batcher`` (the worker's, shared with its HTTP routes)
    when one is given.

    Messages over ``config.max_request_bytes`` are refused with RESOURCE_EXHAUSTED. Stop it
    with ``server.stop(grace)``.

    Raises:
        ValueError: ``grpc_port`` is 0 (gRPC is off: do not call ``start``).
        OSError: the address cannot be bound (taken by a socket without ``SO_REUSEPORT``, a
            host that is not ours...).
    """
    if not config.grpc_port:
        raise ValueError("SERVING_GRPC_PORT is 0: the gRPC server is off")
    server = grpc.server(
        ThreadPoolExecutor(max_workers=config.threads, thread_name_prefix="grpc"),
        handlers=[handler(config, models, batcher)],
        options=[
            ("grpc.so_reuseport", 1),
            ("grpc.max_receive_message_length", config.max_request_bytes),
            ("grpc.max_send_message_length", -1),
        ],
    )
    host = f"[{config.host}]" if ":" in config.host else config.host
    address = f"{host}:{config.grpc_port}"
    try:
        bound = server.add_insecure_port(address)
    except RuntimeError as err:
        bound, detail = 0, f": {err}"
    else:
        detail = ""
    if bound == 0:
        raise OSError(f"cannot bind the gRPC server to {address} (SERVING_GRPC_PORT){detail}")
    server.start()
    return server


def handler(
    config: ServingConfig, models: ModelLookup, batcher: MicroBatcher | None = None
) -> grpc.GenericRpcHandler:
    """The service's handler: each implemented RPC, its messages from ``stubs``."""
    servicer = InferenceServicer(config, models, batcher)
    rpcs = servicer.rpcs()
    handlers = {}
    for method in stubs.service().methods:
        rpc = rpcs.get(method.name)
        if rpc is None:
            continue  # not registered: gRPC answers UNIMPLEMENTED
        handlers[method.name] = grpc.unary_unary_rpc_method_handler(
            servicer.observed(method.name, rpc),
            request_deserializer=stubs.message_class(method.input_type.full_name).FromString,
            response_serializer=_serialize,
        )
    return grpc.method_handlers_generic_handler(stubs.SERVICE, handlers)


def _serialize(message: Any) -> bytes:
    data: bytes = message.SerializeToString()
    return data
