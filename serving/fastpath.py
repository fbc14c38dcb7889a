"""The hot route without Flask: a JSON ``POST /invocations`` to the one model served.

Flask's request and app contexts, its hooks and werkzeug's request and response objects cost
more than a one-row linear model's whole prediction. ``FastInvocations`` wraps the app's WSGI
callable and answers the plainest and commonest request itself, through the same functions the
view calls (``serving.api.invoke``, ``error_reply``, the same metrics and headers), so the
answer is the one Flask would give. Everything else goes to Flask unchanged: another route or
method, a CSV body, a chunked or oversized body, a request naming a model, several models.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.http import HTTP_STATUS_CODES

from registry.errors import error_reply
from serving import metrics
from serving.api import ServingState, invoke
from serving.loader import LoadedModel
from serving.models import ServedModel
from serving.protocols import encoding, jsoncodec
from serving.protocols.mlflow import CONTENT_TYPE_JSON, predictions_body

ROUTE = "/invocations"
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class FastInvocations:
    """WSGI middleware answering a JSON ``POST /invocations`` for the only model served."""

    def __init__(self, app: WSGIApp, serving_state: ServingState) -> None:
        self.app = app
        self.state = serving_state

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        """Answer the request here when it is the plain case, else hand it to ``app``."""
        started = time.perf_counter()
        served = self.state.table.single
        length = environ.get("CONTENT_LENGTH") or ""
        if (
            served is None
            or environ.get("PATH_INFO") != ROUTE
            or environ.get("REQUEST_METHOD") != "POST"
            or not (length.isascii() and length.isdigit())
            or int(length) > self.state.config.max_request_bytes
            or "HTTP_X_MODEL_NAME" in environ
            or "HTTP_TRANSFER_ENCODING" in environ
            or environ.get("CONTENT_TYPE", "").partition(";")[0].strip().lower()
            != CONTENT_TYPE_JSON
        ):
            return self.app(environ, start_response)
        try:
            body = environ["wsgi.input"].read(int(length))
        except (OSError, ValueError):  # the connection failed mid-body (gunicorn's NoMoreData)
            body = b""
        if len(body) != int(length):
            # The client went away mid-body: werkzeug's answer, from the bytes that came.
            environ["wsgi.input"] = io.BytesIO(body)
            return self.app(environ, start_response)
        metrics.IN_FLIGHT.inc()
        try:
            return self._answer(environ, start_response, served, body, started)
        finally:
            metrics.IN_FLIGHT.dec()

    def _answer(
        self,
        environ: dict[str, Any],
        start_response: Callable[..., Any],
        served: ServedModel,
        body: bytes,
        started: float,
    ) -> list[bytes]:
        name = served.name
        taken: LoadedModel | None = None
        headers: list[tuple[str, str]] = [("Content-Type", "application/json")]
        error_code = None
        try:
            taken = self.state.table.take(served)
            coding = environ.get("HTTP_CONTENT_ENCODING")
            if coding is not None:
                body = encoding.decode_body(body, coding, self.state.config.max_request_bytes)
            done = invoke(self.state, taken, body, environ.get("CONTENT_TYPE"))
            out = predictions_body(done.predictions, wrapped=done.kind != "llm")
            status = 200
            metrics.count_rows(name, done.rows)
            if done.warning is not None:
                headers.append(("Warning", done.warning))
        except Exception as exc:  # the app's error handler, as Flask would call it
            reply = error_reply(exc, where=f"POST {ROUTE}")
            out = jsoncodec.dumps(reply.body)
            status = reply.status
            error_code = reply.body["error_code"]
            headers.extend(reply.headers.items())
        current = taken or served.slot.current
        if current is not None:
            headers.append(("X-Model-Version", current.version))
            headers.append(("X-Model-Run-Id", current.run_id))
        accept = environ.get("HTTP_ACCEPT_ENCODING")
        if accept is not None:
            headers.append(("Vary", "Accept-Encoding"))
            response_coding = encoding.response_coding(accept)
            if response_coding is not None and len(out) >= encoding.MIN_COMPRESSED_BYTES:
                out = encoding.encode_body(out, response_coding)
                headers.append(("Content-Encoding", response_coding))
        headers.append(("Content-Length", str(len(out))))
        metrics.record_request(
            ROUTE, "POST", str(status), name, time.perf_counter() - started, error_code
        )
        start_response(f"{status} {HTTP_STATUS_CODES.get(status, 'UNKNOWN').upper()}", headers)
        return [out]
