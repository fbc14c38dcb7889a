"""MLflow's GenAI routes, answered with MLflow's own "not supported" error so clients degrade.

Modelyard implements MLflow's tracking, model registry and artifact APIs; tracing, assessments,
evaluation datasets, scorers, prompt optimization, labeling and the AI gateway (with its
secrets) are not offered. A request under one of ``FEATURES``' prefixes that no route serves
answers what MLflow answers for a feature its server does not offer (the AI gateway when
disabled, span logging on a store without it): HTTP 501 with ``{"error_code":
"NOT_IMPLEMENTED", "message"}``. The app's error handler asks ``refusal`` instead of answering
404, so these paths are not routes: they need no auth rule, and a route added later under one
of the prefixes (a feature we come to implement) takes precedence by itself.

Why 501 and not a bare 404: MLflow's client reads ``ENDPOINT_NOT_FOUND`` as "an older server"
and retries the same call on the v2 route, then reports the v2 route's 404; ``NOT_IMPLEMENTED``
is reported once, with this message. The tracing exporter swallows either (a traced program
never fails), and it stops sending spans when the OTLP answer says "REST OTLP span logging is
not supported", as it does for MLflow's own stores without span storage.
"""

from __future__ import annotations

from registry.errors import NotImplementedYet

FEATURES: dict[str, tuple[str, tuple[str, ...]]] = {
    "tracing": (
        "Tracing",
        (
            "/api/2.0/mlflow/traces",
            "/api/3.0/mlflow/traces",  # assessments live under a trace
            "/api/2.0/mlflow/unified-traces",
            "/api/2.0/mlflow/get-online-trace-details",
        ),
    ),
    "otlp": ("REST OTLP span logging", ("/v1/traces",)),
    "datasets": ("Evaluation dataset management", ("/api/3.0/mlflow/datasets",)),
    "scorers": ("Scorer management", ("/api/3.0/mlflow/scorers",)),
    "prompt_optimization": ("Prompt optimization", ("/api/3.0/mlflow/prompt-optimization",)),
    "labeling": (
        "Labeling (label schemas, review queues, issues)",
        (
            "/api/3.0/mlflow/label-schemas",
            "/api/3.0/mlflow/review-queues",
            "/api/3.0/mlflow/issues",
        ),
    ),
    "gateway": ("The AI gateway (with its secrets)", ("/api/3.0/mlflow/gateway", "/gateway")),
    "jobs": ("Server job management", ("/api/3.0/jobs",)),
}
"""Feature key: (what to call it in the message, the route prefixes MLflow serves it under)."""


def _forms(prefix: str) -> tuple[str, ...]:
    """The prefix as the Python client sends it and as MLflow's web UI does (``/ajax-api``)."""
    if prefix.startswith("/api/"):
        return prefix, "/ajax-api/" + prefix[len("/api/") :]
    return (prefix,)


def feature_of(path: str) -> str:
    """What ``FEATURES`` calls the feature a request path belongs to ("" for none)."""
    for name, prefixes in FEATURES.values():
        for prefix in prefixes:
            for form in _forms(prefix):
                if path == form or path.startswith(form + "/"):
                    return name
    return ""


def refusal(path: str) -> NotImplementedYet | None:
    """MLflow's "not supported" error for a request to a GenAI route, None for any other path."""
    name = feature_of(path)
    if not name:
        return None
    return NotImplementedYet(
        f"{name} is not supported by Modelyard: it implements MLflow's tracking, model"
        " registry and artifact APIs, not MLflow's GenAI features."
    )
