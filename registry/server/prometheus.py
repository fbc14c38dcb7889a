"""Prometheus metrics of the registry server, correct across gunicorn workers.

When ``PROMETHEUS_MULTIPROC_DIR`` is set (``modelyard server`` and the container entrypoint set
it before gunicorn forks), ``/metrics`` aggregates every worker through ``MultiProcessCollector``.
"""

from __future__ import annotations

import time

from flask import Flask, Response, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    Counter,
    Histogram,
    generate_latest,
)

from registry.prometheus_files import all_workers_exposition
from registry.server.api.artifacts import artifact_bytes
from registry.store import observe_queries

REQUESTS = Counter(
    "modelyard_registry_requests_total",
    "HTTP requests by endpoint (route template), method and status.",
    ["endpoint", "method", "status"],
)
LATENCY = Histogram(
    "modelyard_registry_request_duration_seconds",
    "Request latency by endpoint.",
    ["endpoint", "method"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
DATABASE_SECONDS = Counter(
    "modelyard_registry_database_seconds_total", "Time spent executing SQL statements."
)
DATABASE_QUERIES = Counter("modelyard_registry_database_queries_total", "SQL statements run.")
ARTIFACT_BYTES = Counter(
    "modelyard_registry_artifact_bytes_total",
    "Artifact bytes through the proxy; direction is in (uploads) or out (downloads).",
    ["direction"],
)


def count_artifact_bytes(direction: str, count: int) -> None:
    """Add ``count`` bytes uploaded (``in``) or downloaded (``out``) through the proxy."""
    ARTIFACT_BYTES.labels(direction=direction).inc(count)


def _observe_query(seconds: float) -> None:
    DATABASE_SECONDS.inc(seconds)
    DATABASE_QUERIES.inc()


def _count_transfer(_app: Flask, direction: str, nbytes: int) -> None:
    count_artifact_bytes(direction, nbytes)


def install(app: Flask, multiprocess_dir: str | None) -> None:
    """Time every request, count SQL time and artifact bytes, and serve ``GET /metrics``."""
    observe_queries(_observe_query)
    artifact_bytes.connect(_count_transfer, app)

    @app.before_request
    def _start_timer() -> None:
        g.prometheus_started = time.perf_counter()

    @app.after_request
    def _record(response: Response) -> Response:
        started = g.pop("prometheus_started", None)
        if started is not None and request.endpoint != "prometheus_metrics":
            endpoint = request.url_rule.rule if request.url_rule else "<unmatched>"
            LATENCY.labels(endpoint, request.method).observe(time.perf_counter() - started)
            REQUESTS.labels(endpoint, request.method, str(response.status_code)).inc()
        return response

    def prometheus_metrics() -> Response:
        if multiprocess_dir:
            body = all_workers_exposition(multiprocess_dir)
            return Response(body, mimetype=CONTENT_TYPE_LATEST)
        return Response(generate_latest(), mimetype=CONTENT_TYPE_LATEST)

    app.add_url_rule("/metrics", "prometheus_metrics", prometheus_metrics, methods=["GET"])
