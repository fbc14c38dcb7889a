"""The artifact proxy: MLflow's ``/api/2.0/mlflow-artifacts`` endpoints over the artifact store.

Bodies stream in both directions; nothing holds a whole artifact in memory. Every transfer
sends ``artifact_bytes`` (a Flask/blinker signal, sender = the app) with ``direction`` ``"in"``
or ``"out"`` and ``nbytes``, so metrics can count traffic without this module knowing them::

    artifact_bytes.connect(lambda app, direction, nbytes: counter.labels(direction).inc(nbytes))
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from typing import Any, BinaryIO, TypeVar

from blinker import Namespace
from flask import Blueprint, Flask, Response, current_app, jsonify, request
from werkzeug.routing import BaseConverter, Map

from registry.artifacts import CHUNK_SIZE, Readable
from registry.errors import BadRequest, InvalidParameter, NotImplementedYet, PayloadTooLarge
from registry.server.api import artifact_store, config
from registry.wire.artifacts import ArtifactListing, FileInfo

logger = logging.getLogger(__name__)

bp = Blueprint("artifacts", __name__, url_prefix="/api/2.0/mlflow-artifacts")

artifact_bytes = Namespace().signal("modelyard.artifact-bytes")
"""Sent after each upload and download with ``direction`` and ``nbytes``."""

_TEXT_SUFFIXES = (".txt", ".json", ".yaml", ".yml", ".md", ".csv", ".log", ".py", ".cfg")
_TEXT_NAMES = frozenset({"MLmodel", "MLproject", "requirements.txt", "LICENSE"})
_ENCODED_IN_PATH = re.compile(r"%(2f|5c|00)", re.IGNORECASE)


class _AnyPathConverter(BaseConverter):
    """Like ``path`` but also matches a leading ``/``, so ``//etc/passwd`` gets our 400."""

    regex = ".*?"
    part_isolating = False


@bp.record_once
def _register_converter(state: Any) -> None:
    url_map: Map = state.app.url_map
    url_map.converters["anypath"] = _AnyPathConverter


_View = TypeVar("_View", bound=Callable[..., Response])


def _rule(method: str, rule: str) -> Callable[[_View], _View]:
    # merge_slashes=False: a 308 redirect would make clients resend a PUT body elsewhere.
    return bp.route(rule, methods=[method], merge_slashes=False, strict_slashes=False)


@_rule("PUT", "/artifacts/<anypath:path>")
def upload(path: str) -> Response:
    """Store the raw request body at ``path``; 200 with an empty body.

    Raises:
        InvalidParameter: the path is unsafe.
        BadRequest: the body ended before its Content-Length (the client went away).
        PayloadTooLarge: the body is over ``max_upload_bytes``.
    """
    path = _request_path(path)
    limit = config().max_upload_bytes
    length = request.content_length
    if limit > 0 and length is not None and length > limit:
        raise PayloadTooLarge(f"Artifact is {length} bytes; the limit is {limit}", limit=limit)
    body = _BodyReader(_raw_body(), length, limit)
    written = artifact_store().put(path, body)
    artifact_bytes.send(current_app._get_current_object(), direction="in", nbytes=written)  # type: ignore[attr-defined]
    response = Response(b"", status=200)
    del response.headers["Content-Type"]  # MLflow answers an empty body with no type
    return response


@_rule("GET", "/artifacts/<anypath:path>")
def download(path: str) -> Response:
    """Stream the file at ``path``.

    Raises:
        InvalidParameter: the path is unsafe.
        ArtifactNotFound: no file at ``path``.
    """
    if not path:  # "artifacts/?path=..." is a listing with a trailing slash
        return list_artifacts()
    path = _request_path(path)
    stream = artifact_store().open(path)
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    response = Response(_chunks(stream, app), mimetype=_content_type(path))
    # Bytes a user uploaded must never run as a page on the server's own origin.
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@_rule("GET", "/artifacts")
def list_artifacts() -> Response:
    """``{"files": [...]}`` for the directory in ``?path=`` (the root when absent), else ``{}``.

    Raises:
        InvalidParameter: the path is unsafe.
    """
    infos = artifact_store().list(request.args.get("path", ""))
    files = tuple(FileInfo(i.path, i.is_dir, None if i.is_dir else i.file_size) for i in infos)
    return jsonify(ArtifactListing.Schema().dump(ArtifactListing(files=files)))


@_rule("DELETE", "/artifacts/<anypath:path>")
def delete(path: str) -> Response:
    """Remove the file or directory at ``path``; ``{}``.

    Raises:
        InvalidParameter: the path is unsafe or names the root.
    """
    artifact_store().delete(_request_path(path))
    return jsonify({})


@_rule("POST", "/mpu/<any(create, complete, abort):action>/<anypath:path>")
def multipart(action: str, path: str) -> Response:
    """Multipart uploads are not offered (server-info says so); 501.

    Raises:
        NotImplementedYet: always.
    """
    raise NotImplementedYet(f"Multipart upload ({action}) is not supported; use a plain PUT")


@_rule("GET", "/presigned/<anypath:path>")
def presigned(path: str) -> Response:
    """Presigned URLs are not offered; 501.

    Raises:
        NotImplementedYet: always.
    """
    raise NotImplementedYet("Presigned URLs are not supported; GET the artifact instead")


def _request_path(path: str) -> str:
    """The routed path, refused if the raw URL hid a separator or NUL in percent-encoding.

    The WSGI server decodes ``%2F`` into ``/`` before routing, so only the raw URI shows it.
    """
    raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI") or ""
    if _ENCODED_IN_PATH.search(raw.partition("?")[0]):
        raise InvalidParameter(
            f"Invalid artifact path {path!r}: contains an encoded '/', '\\' or NUL", path=path
        )
    return path


def _raw_body() -> Readable:
    """The request body, also when it came chunked through a WSGI caller that did not say so.

    Werkzeug reads a body without Content-Length only if ``wsgi.input_terminated`` is set;
    gunicorn sets it, but in-process callers such as ``httpx.WSGITransport`` (our embedded
    mode) do not, and the upload would silently be stored empty.
    """
    environ = request.environ
    chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
    if chunked and request.content_length is None and not environ.get("wsgi.input_terminated"):
        return environ["wsgi.input"]  # type: ignore[no-any-return]
    return request.stream


def _content_type(path: str) -> str:
    name = path.rsplit("/", 1)[-1]
    if name in _TEXT_NAMES or name.lower().endswith(_TEXT_SUFFIXES):
        return "text/plain"
    return "application/octet-stream"


def _chunks(stream: BinaryIO, app: Flask) -> Iterator[bytes]:
    sent = 0
    try:
        while chunk := stream.read(CHUNK_SIZE):
            sent += len(chunk)
            yield chunk
    finally:
        stream.close()
        artifact_bytes.send(app, direction="out", nbytes=sent)


class _BodyReader:
    """The request body, refused if it passes the limit or ends before its Content-Length.

    gunicorn marks its input as terminated, so Werkzeug hands over the raw stream and a client
    that disconnects mid-body just looks like an early EOF; without this check a truncated
    upload would be stored as if complete.
    """

    def __init__(self, src: Readable, expected: int | None, limit: int) -> None:
        self._src = src
        self._expected = expected
        self._limit = limit
        self._read = 0

    def read(self, size: int = -1) -> bytes:
        chunk = self._src.read(size)
        self._read += len(chunk)
        if 0 < self._limit < self._read:
            raise PayloadTooLarge("Artifact is over the upload limit", limit=self._limit)
        if not chunk and self._expected is not None and self._read < self._expected:
            logger.info("upload ended after %d of %d bytes", self._read, self._expected)
            raise BadRequest(f"The body ended after {self._read} of {self._expected} bytes")
        return chunk
