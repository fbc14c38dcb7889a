"""Operational endpoints: Prometheus ``/metrics`` and the OpenAPI document."""

from __future__ import annotations

from flask import Blueprint, Response

from serving import metrics
from serving.api import state
from serving.openapi import openapi_document
from serving.protocols import jsoncodec

bp = Blueprint("ops", __name__)


@bp.get("/metrics")
def prometheus() -> Response:
    """Prometheus text exposition, aggregated over all workers."""
    body, content_type = metrics.exposition(state().config.prometheus_multiproc_dir)
    return Response(body, content_type=content_type)


@bp.get("/openapi.json")
def openapi() -> Response:
    """The OpenAPI 3.1 document describing every endpoint of this server."""
    return Response(jsoncodec.dumps(openapi_document()), mimetype="application/json")
