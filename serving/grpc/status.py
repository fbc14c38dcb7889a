"""Our errors as gRPC status codes: the HTTP status each error class carries, mapped once."""

from __future__ import annotations

import grpc

from registry.errors import ErrorReply, error_reply

_CODES: dict[int, grpc.StatusCode] = {
    400: grpc.StatusCode.INVALID_ARGUMENT,
    401: grpc.StatusCode.UNAUTHENTICATED,
    403: grpc.StatusCode.PERMISSION_DENIED,
    404: grpc.StatusCode.NOT_FOUND,
    405: grpc.StatusCode.UNIMPLEMENTED,
    409: grpc.StatusCode.FAILED_PRECONDITION,
    413: grpc.StatusCode.RESOURCE_EXHAUSTED,
    415: grpc.StatusCode.INVALID_ARGUMENT,
    501: grpc.StatusCode.UNIMPLEMENTED,
    503: grpc.StatusCode.UNAVAILABLE,
    507: grpc.StatusCode.RESOURCE_EXHAUSTED,
}

ERROR_CODE_KEY = "error-code"
"""Trailing metadata key of a failed call: our ``error_code`` (``BAD_REQUEST``, ...)."""


def status_of(exc: BaseException, where: str) -> tuple[grpc.StatusCode, ErrorReply]:
    """The status code and the error reply (``registry.errors.error_reply``) of ``exc``.

    An exception that is not one of ours is logged with its traceback and answers INTERNAL
    with a generic message, as the HTTP servers answer 500.
    """
    reply = error_reply(exc, where=where)
    default = grpc.StatusCode.INTERNAL if reply.status >= 500 else grpc.StatusCode.UNKNOWN
    return _CODES.get(reply.status, default), reply
