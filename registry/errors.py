"""The one exception hierarchy of Modelyard.

Every error the API, the client or the serving process reports is one of these. Each class
carries its MLflow ``error_code`` and its HTTP status, so raise sites never choose a status::

    RegistryError                  INTERNAL_ERROR            500
    ├── InvalidParameter           INVALID_PARAMETER_VALUE   400
    │   └── BadRequest             BAD_REQUEST               400
    ├── Unauthenticated            UNAUTHENTICATED           401
    ├── PermissionDenied           PERMISSION_DENIED         403
    ├── NotFound                   RESOURCE_DOES_NOT_EXIST   404
    │   ├── ArtifactNotFound       RESOURCE_DOES_NOT_EXIST   404
    │   └── EndpointNotFound       ENDPOINT_NOT_FOUND        404  (no route: MLflow's client name)
    ├── MethodNotAllowed           METHOD_NOT_ALLOWED        405
    ├── AlreadyExists              RESOURCE_ALREADY_EXISTS   400  (MLflow answers 400, not 409)
    ├── InvalidState               INVALID_STATE             409
    ├── PayloadTooLarge            PAYLOAD_TOO_LARGE         413
    ├── UnsupportedMediaType       UNSUPPORTED_MEDIA_TYPE    415
    ├── NotImplementedYet          NOT_IMPLEMENTED           501
    │   └── FlavorNotInstalled     NOT_IMPLEMENTED           501  (also an ImportError)
    ├── ModelNotReady              MODEL_NOT_READY           503
    ├── TemporarilyUnavailable     TEMPORARILY_UNAVAILABLE   503
    └── InsufficientStorage        INSUFFICIENT_STORAGE      507

``error_reply`` is the one error function of every server: the tracking API and the UI (which
renders the same status, code and message as an HTML page) and serving (whose Open Inference
Protocol routes add ``"error"``). ``RegistryError.from_dict`` turns an error body back into the
same class, so a client can catch ``NotFound`` whether the server was local or remote.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol, runtime_checkable

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 1
"""What a 503 answer's ``Retry-After`` header says: the outage is usually over by then."""
INTERNAL_MESSAGE = "Internal server error; see the server log."


class RegistryError(Exception):
    """Base for every error the API may return."""

    error_code: ClassVar[str] = "INTERNAL_ERROR"
    http_status: ClassVar[int] = 500

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON error body ``{"error_code", "message", "details"?}``."""
        body: dict[str, Any] = {"error_code": self.error_code, "message": self.message}
        if self.details:
            body["details"] = self.details
        return body

    @staticmethod
    def from_dict(body: dict[str, Any], http_status: int | None = None) -> RegistryError:
        """Rebuild the error a server sent; unknown codes fall back on the HTTP status."""
        code = str(body.get("error_code", ""))
        message = str(body.get("message", "")) or code or "unknown error"
        details = body.get("details") if isinstance(body.get("details"), dict) else {}
        cls = _BY_CODE.get(code)
        if cls is None:
            cls = _BY_STATUS.get(http_status or 500, RegistryError)
        err = cls(message, **(details or {}))
        return err


class Unauthenticated(RegistryError):
    """No credentials, or credentials that do not identify a user."""

    error_code = "UNAUTHENTICATED"
    http_status = 401


class PermissionDenied(RegistryError):
    """The user is known but may not do this (also: a foreign Origin)."""

    error_code = "PERMISSION_DENIED"
    http_status = 403


class InvalidParameter(RegistryError):
    """A request field is missing, malformed or out of range."""

    error_code = "INVALID_PARAMETER_VALUE"
    http_status = 400


class BadRequest(InvalidParameter):
    """The request body itself cannot be read (malformed JSON, a wrong shape)."""

    error_code = "BAD_REQUEST"


class NotFound(RegistryError):
    """The named experiment, run, model, version or artifact does not exist."""

    error_code = "RESOURCE_DOES_NOT_EXIST"
    http_status = 404


class ArtifactNotFound(NotFound):
    """No artifact at the given path."""


class EndpointNotFound(NotFound):
    """No route matches the request's path (what MLflow's client calls a bare 404)."""

    error_code = "ENDPOINT_NOT_FOUND"


class MethodNotAllowed(RegistryError):
    """The route exists, but not for this HTTP method."""

    error_code = "METHOD_NOT_ALLOWED"
    http_status = 405


class AlreadyExists(RegistryError):
    """A resource with that name already exists (MLflow answers 400 for this)."""

    error_code = "RESOURCE_ALREADY_EXISTS"
    http_status = 400


class InvalidState(RegistryError):
    """The resource is not in a state that allows the operation."""

    error_code = "INVALID_STATE"
    http_status = 409


class PayloadTooLarge(RegistryError):
    """The request body is over the configured limit."""

    error_code = "PAYLOAD_TOO_LARGE"
    http_status = 413


class UnsupportedMediaType(RegistryError):
    """The request's content type is not one the endpoint reads."""

    error_code = "UNSUPPORTED_MEDIA_TYPE"
    http_status = 415


class NotImplementedYet(RegistryError):
    """An MLflow feature this server deliberately does not offer (e.g. multipart upload)."""

    error_code = "NOT_IMPLEMENTED"
    http_status = 501


class FlavorNotInstalled(NotImplementedYet, ImportError):
    """A model flavor's library is not installed; the message names the extra to install.

    It is an ``ImportError`` too, so code written for MLflow (which raises
    ``ModuleNotFoundError`` there) still catches it.
    """


class ModelNotReady(RegistryError):
    """The serving process has not loaded its model yet."""

    error_code = "MODEL_NOT_READY"
    http_status = 503


class TemporarilyUnavailable(RegistryError):
    """The server or its database is briefly unavailable; retrying may succeed."""

    error_code = "TEMPORARILY_UNAVAILABLE"
    http_status = 503


class InsufficientStorage(RegistryError):
    """The artifact store is full (disk or quota); nothing of the upload was kept."""

    error_code = "INSUFFICIENT_STORAGE"
    http_status = 507


def _family(cls: type[RegistryError]) -> Iterable[type[RegistryError]]:
    yield cls
    for sub in cls.__subclasses__():
        yield from _family(sub)


# Derived from the classes, so a new class needs no table entry. For a status, the first class
# of the tree that answers it (the most general one) stands for it.
_BY_CODE: dict[str, type[RegistryError]] = {}
_BY_STATUS: dict[int, type[RegistryError]] = {}
for _cls in _family(RegistryError):
    _BY_CODE.setdefault(_cls.error_code, _cls)
    _BY_STATUS.setdefault(_cls.http_status, _cls)
_BY_CODE["ALREADY_EXISTS"] = AlreadyExists
# A status without our body (a framework's or a proxy's error) reads as MLflow's client reads it:
# 400 is BAD_REQUEST, 404 ENDPOINT_NOT_FOUND; a 503 is an outage worth retrying.
_BY_STATUS.update({400: BadRequest, 404: EndpointNotFound, 503: TemporarilyUnavailable})


@runtime_checkable
class HTTPError(Protocol):
    """What the web framework raises for routing and protocol errors (werkzeug's HTTPException)."""

    code: int | None
    description: str | None

    def get_headers(self, *args: Any, **kwargs: Any) -> list[tuple[str, str]]:
        """The headers the status calls for (``Allow`` for a 405, ``Content-Range``...)."""


@dataclass(frozen=True)
class ErrorReply:
    """One error as every server answers it: status, JSON body and headers."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


def error_reply(exc: BaseException, *, oip: bool = False, where: str = "") -> ErrorReply:
    """The one error function: the answer of every server (API, UI, serving) to ``exc``.

    A ``RegistryError`` answers its own status with ``{"error_code", "message", "details"?}``.
    A framework HTTP error (unknown route, wrong method, body too large...) answers its status
    with the body of the class carrying that status (``ENDPOINT_NOT_FOUND`` for a 404,
    ``METHOD_NOT_ALLOWED`` for a 405), and the headers the status calls for. Anything else is a
    bug: its traceback is logged (with ``where``, e.g. the method and path) and the answer is a
    generic 500 ``INTERNAL_ERROR``. A 503 says when to retry (``Retry-After``).

    Args:
        exc: what a request raised.
        oip: add ``"error": message``, the body the Open Inference Protocol (V2) defines.
        where: what was being served, for the log.
    """
    headers: dict[str, str] = {}
    if isinstance(exc, RegistryError):
        err, status = exc, exc.http_status
    elif isinstance(exc, HTTPError) and exc.code is not None:
        status = exc.code
        cls = _BY_STATUS.get(status) or (RegistryError if status >= 500 else BadRequest)
        message = exc.description or cls.__name__
        if status == 404:
            message = f"No endpoint {where}" if where else "No such endpoint"
        err = cls(message)
        headers.update((k, v) for k, v in exc.get_headers() if k.lower() != "content-type")
    else:
        logger.error("unhandled error on %s", where or "a request", exc_info=exc)
        err, status = RegistryError(INTERNAL_MESSAGE), 500
    body = err.to_dict()
    if oip:
        body = {"error": err.message, **body}
    if status == 503:
        headers.setdefault("Retry-After", str(RETRY_AFTER_SECONDS))
    return ErrorReply(status, body, headers)
