"""Modelyard: experiment tracking, model registry and serving that speaks MLflow's protocol.

``import registry as mlflow`` gives MLflow's fluent API: ``set_tracking_uri``,
``set_experiment``, ``start_run``, ``log_param``, ``log_metric``, ``register_model``, ...
Flavors load lazily: ``registry.sklearn``, ``registry.xgboost``, ``registry.pyfunc``.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_FLUENT = (
    "ActiveRun",
    "active_run",
    "create_experiment",
    "delete_tag",
    "end_run",
    "flush_async_logging",
    "get_artifact_uri",
    "get_experiment",
    "get_experiment_by_name",
    "get_run",
    "last_active_run",
    "log_artifact",
    "log_artifacts",
    "log_dict",
    "log_figure",
    "log_input",
    "log_metric",
    "log_metrics",
    "log_param",
    "log_params",
    "log_text",
    "register_model",
    "search_experiments",
    "search_runs",
    "set_experiment",
    "set_tag",
    "set_tags",
    "set_tracking_uri",
    "start_run",
)
_LAZY = {
    **dict.fromkeys(_FLUENT, "registry.fluent"),
    "get_tracking_uri": "registry.client.tracking_uri",
    "MlflowClient": "registry.client",
    "Client": "registry.client",
    "ViewType": "registry.entities",
    "autolog": "registry.autolog",
}
_SUBMODULES = ("sklearn", "xgboost", "pyfunc", "entities", "errors", "client", "models")

__all__ = ["__version__", *sorted(_LAZY)]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    if name in _SUBMODULES:
        return importlib.import_module(f"registry.{name}")
    raise AttributeError(f"module 'registry' has no attribute {name!r}")
