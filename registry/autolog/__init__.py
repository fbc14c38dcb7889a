"""Autologging for scikit-learn and XGBoost: ``registry.autolog()`` turns both on."""

from __future__ import annotations

import importlib.util
import sys
import types
from typing import Any


def autolog(disable: bool = False, log_models: bool = True, **kwargs: Any) -> None:
    """Autolog every installed supported library (scikit-learn, XGBoost); ``disable`` undoes it."""
    if importlib.util.find_spec("sklearn") is not None:
        from registry.autolog import sklearn

        sklearn.autolog(disable=disable, log_models=log_models, **kwargs)
    if importlib.util.find_spec("xgboost") is not None:
        from registry.autolog import xgboost

        xgboost.autolog(disable=disable, log_models=log_models, **kwargs)


class _CallableModule(types.ModuleType):
    # Importing registry.autolog rebinds that name on ``registry`` to this module, so
    # calling the module must still mean autolog(), as mlflow.autolog() does.

    def __call__(self, disable: bool = False, log_models: bool = True, **kwargs: Any) -> None:
        autolog(disable=disable, log_models=log_models, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
