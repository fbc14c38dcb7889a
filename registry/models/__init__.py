"""The MLmodel format: save and load models per flavor, signatures, and a generic Predictor.

Directories written here load in MLflow 3 (``mlflow.pyfunc.load_model`` and the flavor's own
``load_model``), and MLflow's directories load here through ``load_predictor``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from registry.models.loader import load_predictor
    from registry.models.predictor import Predictor

__all__ = ["Predictor", "load_predictor"]

# Loaded on first use, so importing one flavor does not import every ML library.
_LAZY = {"load_predictor": "registry.models.loader", "Predictor": "registry.models.predictor"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
