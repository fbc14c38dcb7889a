"""Prometheus metrics of the serving process, correct across gunicorn workers.

With ``PROMETHEUS_MULTIPROC_DIR`` set (``modelyard serve`` always sets it), every worker writes
its values to files in that directory and a scrape of any worker aggregates all of them.
"""

from __future__ import annotations

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

from registry.prometheus_files import all_workers_exposition

REQUESTS = Counter(
    "modelyard_serving_requests_total",
    'HTTP requests answered, by route, method, status code and model ("" for none).',
    ["route", "method", "status", "model"],
)
LATENCY = Histogram(
    "modelyard_serving_request_duration_seconds",
    "Time from reading the request to returning the response, by route and model.",
    ["route", "model"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
ROWS = Counter("modelyard_serving_rows_predicted_total", "Rows each model predicted on.", ["model"])
PREDICTION_ERRORS = Counter(
    "modelyard_serving_prediction_errors_total",
    'Requests that did not get predictions, by error code and model ("" when none was found).',
    ["error_code", "model"],
)
IN_FLIGHT = Gauge(
    "modelyard_serving_in_flight_requests",
    "Prediction requests being answered now, summed over live workers.",
    multiprocess_mode="livesum",
)
BATCH_SIZE = Histogram(
    "modelyard_serving_batch_requests",
    "Requests merged into one predict call by micro-batching.",
    buckets=(1, 2, 4, 8, 16, 32, 64, 128),
)
LOAD_SECONDS = Histogram(
    "modelyard_serving_model_load_seconds",
    "Time to download and load a model version.",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120),
)
LOAD_FAILURES = Counter(
    "modelyard_serving_model_load_failures_total",
    "Model versions that failed to load (the previous version kept serving), by model.",
    ["model"],
)
MODEL_VERSION = Gauge(
    "modelyard_serving_model_version_info",
    "1 for the model version a live worker is serving, 0 for versions it no longer serves;"
    " name is the registered name, model the name it is served under.",
    ["name", "version", "run_id", "model"],
    multiprocess_mode="livemax",
)
LAST_LOAD_FAILED = Gauge(
    "modelyard_serving_last_load_failed",
    "1 when the latest attempt to load a new version of a model failed in some live worker.",
    ["model"],
    multiprocess_mode="livemax",
)


def record_request(
    route: str, method: str, status: str, model: str, seconds: float, error_code: str | None
) -> None:
    """Count one answered request (HTTP or gRPC) and its latency; a failed prediction too.

    Args:
        route: the route's rule (``/v2/models/<name>/infer``) or the gRPC method's path.
        method: the HTTP method, or ``GRPC``.
        status: the HTTP status code (for gRPC, the one our error carries).
        model: the served model's name, "" when none was found.
        seconds: time from reading the request to answering it.
        error_code: the error code of a prediction request that got no predictions, else None.
    """
    children = _REQUEST_CHILDREN.get((route, method, status, model))
    if children is None:
        children = (REQUESTS.labels(route, method, status, model), LATENCY.labels(route, model))
        _REQUEST_CHILDREN[(route, method, status, model)] = children
    children[0].inc()
    children[1].observe(seconds)
    if error_code is not None:
        PREDICTION_ERRORS.labels(error_code, model).inc()


def count_rows(model: str, rows: int) -> None:
    """Count the rows ``model`` predicted on."""
    child = _ROWS_CHILDREN.get(model)
    if child is None:
        child = _ROWS_CHILDREN[model] = ROWS.labels(model)
    child.inc(rows)


# ``labels()`` validates and looks its arguments up on every call; a request's labels come from
# a few routes, statuses and models, so their children are kept here (prometheus_client keeps
# them forever too, so this holds nothing it would have freed).
_REQUEST_CHILDREN: dict[tuple[str, str, str, str], tuple[Counter, Histogram]] = {}
_ROWS_CHILDREN: dict[str, Counter] = {}


def exposition(multiproc_dir: str) -> tuple[bytes, str]:
    """The text exposition of every metric (all workers' when ``multiproc_dir`` is set)."""
    if multiproc_dir:
        return all_workers_exposition(multiproc_dir), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST


def mark_process_dead(pid: int, multiproc_dir: str) -> None:
    """Drop a dead worker's live gauges (called from gunicorn's ``child_exit`` hook)."""
    if multiproc_dir:
        multiprocess.mark_process_dead(pid, multiproc_dir)  # type: ignore[no-untyped-call]
