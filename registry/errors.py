"""The one exception hierarchy of Modelyard.

Every error the API, the client or the serving process reports is one of these. Each class
carries its MLflow ``error_code`` and its HTTP status, so raise sites never choose a status::

    RegistryError                  INTERNAL_ERROR            500
    ├── InvalidParameter           INVALID_PARAMETER_VALUE   400
    │   └── BadRequest             BAD_REQUEST               400
    ├── Unauthenticated            UNAUTHENTICATED           401
    ├── PermissionDenied           PERMISSION_DENIED         403
    ├── NotFound                   RESOURCE_DOES_NOT_EXIST   404
    │   └── ArtifactNotFound       RESOURCE_DOES_NOT_EXIST   404
    ├── AlreadyExists              RESOURCE_ALREADY_EXISTS   400  (MLflow answers 400, not 409)
    ├── InvalidState               INVALID_STATE             409
    ├── PayloadTooLarge            PAYLOAD_TOO_LARGE         413
    ├── UnsupportedMediaType       UNSUPPORTED_MEDIA_TYPE    415
    ├── NotImplementedYet          NOT_IMPLEMENTED           501
    │   └── FlavorNotInstalled     NOT_IMPLEMENTED           501  (also an ImportError)
    ├── ModelNotReady              MODEL_NOT_READY           503
    ├── TemporarilyUnavailable     TEMPORARILY_UNAVAILABLE   503
    └── InsufficientStorage        INSUFFICIENT_STORAGE      507

``RegistryError.from_dict`` turns an error body back into the same class, so a client can catch
``NotFound`` whether the server was local or remote.
"""

from __future__ import annotations

from typing import Any, ClassVar


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


_BY_CODE: dict[str, type[RegistryError]] = {
    cls.error_code: cls
    for cls in (
        InvalidParameter,
        BadRequest,
        Unauthenticated,
        PermissionDenied,
        NotFound,
        AlreadyExists,
        InvalidState,
        PayloadTooLarge,
        UnsupportedMediaType,
        NotImplementedYet,
        ModelNotReady,
        TemporarilyUnavailable,
        InsufficientStorage,
    )
}
_BY_CODE["ENDPOINT_NOT_FOUND"] = NotFound
_BY_CODE["ALREADY_EXISTS"] = AlreadyExists
_BY_STATUS: dict[int, type[RegistryError]] = {
    400: InvalidParameter,
    401: Unauthenticated,
    403: PermissionDenied,
    404: NotFound,
    409: InvalidState,
    413: PayloadTooLarge,
    415: UnsupportedMediaType,
    501: NotImplementedYet,
    503: TemporarilyUnavailable,
    507: InsufficientStorage,
}
