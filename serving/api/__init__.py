"""HTTP views of the serving process, one blueprint per protocol."""

from __future__ import annotations

import dataclasses

from flask import current_app, g, request

from registry.errors import ModelNotReady
from serving.batching import MicroBatcher
from serving.config import ServingConfig
from serving.loader import LoadedModel
from serving.protocols.encoding import decode_body
from serving.slot import ModelSlot
from serving.watcher import Watcher


@dataclasses.dataclass
class ServingState:
    """What a worker shares between requests: config, the model slot, background threads."""

    config: ServingConfig
    slot: ModelSlot
    watcher: Watcher
    batcher: MicroBatcher | None

    def start(self) -> None:
        """Start the watcher and batcher threads and publish the model (once per worker)."""
        self.slot.publish()
        self.watcher.start()
        if self.batcher is not None:
            self.batcher.start()


def state() -> ServingState:
    """The worker's ServingState."""
    serving_state: ServingState = current_app.extensions["serving"]
    return serving_state


def model() -> LoadedModel:
    """The model for this request: taken once, so a swap mid-request cannot mix versions.

    Raises:
        ModelNotReady: no model is loaded yet.
    """
    taken: LoadedModel | None = g.get("model")
    if taken is None:
        slot = state().slot
        taken = slot.current
        if taken is None:
            detail = f": {slot.load_error}" if slot.load_error else ""
            raise ModelNotReady(f"The model is not loaded yet{detail}")
        g.model = taken
    return taken


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
