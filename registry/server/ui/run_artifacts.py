"""Downloading a run's artifacts from the UI, read through the server's artifact store."""

from __future__ import annotations

import posixpath
from collections.abc import Iterator

from flask import Response, request, stream_with_context

from registry.server.ui import artifact_files
from registry.server.ui.pages import artifact_store, make_blueprint
from registry.store import runs as run_store

bp = make_blueprint("run_artifacts", __name__, url_prefix="/runs")
CHUNK = 64 * 1024


@bp.get("/<run_id>/artifact")
def download(run_id: str) -> Response:
    """The file at ``?path=``; images show inline, everything else downloads.

    Responses carry ``Content-Security-Policy: sandbox`` and ``nosniff``, so that an uploaded
    HTML or SVG file opened directly cannot run script with this site's origin.

    Raises:
        InvalidParameter: the path leaves the run's artifact directory.
        ArtifactNotFound: no such file.
    """
    run = run_store.get_run_row(run_id)
    path = artifact_files.clean_path(request.args.get("path", ""))
    stream = artifact_store().open(f"{artifact_files.run_root(run)}/{path}")

    def chunks() -> Iterator[bytes]:
        with stream:
            while block := stream.read(CHUNK):
                yield block

    name = posixpath.basename(path)
    suffix = posixpath.splitext(name)[1].lower()
    inline = suffix in artifact_files.IMAGE_TYPES and request.args.get("download") != "1"
    mimetype = artifact_files.IMAGE_TYPES.get(suffix, "application/octet-stream")
    response = Response(stream_with_context(chunks()), mimetype=mimetype)
    disposition = "inline" if inline else "attachment"
    response.headers.set("Content-Disposition", disposition, filename=name)
    response.headers["Content-Security-Policy"] = (
        "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
