"""scikit-learn autologging: every outermost ``fit`` logs params, training metrics and the model."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from registry import fluent
from registry.autolog.patching import outermost, patch, safely, unpatch
from registry.autolog.session import training_run
from registry.client.datasets import dataset_input
from registry.client.tracking import now_ms
from registry.entities import Metric, Param, RunTag
from registry.errors import InvalidParameter
from registry.models.dependencies import require

logger = logging.getLogger(__name__)

FLAVOR = "sklearn"
_settings: dict[str, Any] = {"log_models": True}


def autolog(disable: bool = False, log_models: bool = True, **_ignored: Any) -> None:
    """Patch ``fit`` of every scikit-learn estimator; ``disable=True`` restores the originals.

    Raises:
        FlavorNotInstalled: scikit-learn is not installed (``pip install 'modelyard[sklearn]'``).
    """
    unpatch(FLAVOR)
    if disable:
        return
    require("sklearn", FLAVOR)
    from sklearn.utils import all_estimators

    _settings["log_models"] = log_models
    owners = {
        next(k for k in cls.__mro__ if "fit" in k.__dict__)
        for _, cls in all_estimators()
        if hasattr(cls, "fit")
    }
    for owner in sorted(owners, key=lambda k: f"{k.__module__}.{k.__qualname__}"):
        patch(FLAVOR, owner, "fit", _fit_wrapper)


def _fit_wrapper(original: Any) -> Any:
    def fit(self: Any, *args: Any, **kwargs: Any) -> Any:
        with outermost(FLAVOR) as first:
            if not first:
                return original(self, *args, **kwargs)
            with training_run() as run_id:
                safely("log params", lambda: _log_params(run_id, self))
                result = original(self, *args, **kwargs)
                x = args[0] if args else kwargs.get("X")
                y = args[1] if len(args) > 1 else kwargs.get("y")
                safely("log training metrics", lambda: _log_metrics(run_id, self, x, y))
                safely("log the dataset", lambda: _log_dataset(run_id, x))
                if _settings["log_models"]:
                    safely("log the model", lambda: _log_model(self, x))
                return result

    return fit


def _log_params(run_id: str, estimator: Any) -> None:
    params = [Param(k, str(v)[:6000]) for k, v in estimator.get_params(deep=True).items()]
    tags = [
        RunTag("estimator_name", type(estimator).__name__),
        RunTag("estimator_class", f"{type(estimator).__module__}.{type(estimator).__qualname__}"),
    ]
    fluent.client().log_batch(run_id, params=params, tags=tags)


def training_metrics(estimator: Any, x: Any, y: Any) -> dict[str, float]:
    """MLflow's ``training_*`` metrics for a fitted regressor or classifier on its training data."""
    from sklearn import metrics
    from sklearn.base import is_classifier, is_regressor

    if y is None or not hasattr(estimator, "predict"):
        return {}
    predicted = estimator.predict(x)
    found: dict[str, float] = {}
    if is_regressor(estimator):
        mse = metrics.mean_squared_error(y, predicted)
        found = {
            "training_mean_squared_error": mse,
            "training_root_mean_squared_error": float(np.sqrt(mse)),
            "training_mean_absolute_error": metrics.mean_absolute_error(y, predicted),
            "training_r2_score": metrics.r2_score(y, predicted),
        }
    elif is_classifier(estimator):
        average = "binary" if len(np.unique(y)) <= 2 else "weighted"
        found = {
            "training_accuracy_score": metrics.accuracy_score(y, predicted),
            "training_precision_score": metrics.precision_score(
                y, predicted, average=average, zero_division=0
            ),
            "training_recall_score": metrics.recall_score(
                y, predicted, average=average, zero_division=0
            ),
            "training_f1_score": metrics.f1_score(y, predicted, average=average, zero_division=0),
        }
    if hasattr(estimator, "score"):
        found["training_score"] = estimator.score(x, y)
    return {k: float(v) for k, v in found.items()}


def _log_metrics(run_id: str, estimator: Any, x: Any, y: Any) -> None:
    found = training_metrics(estimator, x, y)
    if found:
        points = [Metric(k, v, now_ms(), 0) for k, v in found.items()]
        fluent.client().log_batch(run_id, metrics=points)


def _log_dataset(run_id: str, x: Any) -> None:
    fluent.client().log_inputs(run_id, [dataset_input(x, context="train")])


def _log_model(estimator: Any, x: Any) -> None:
    from registry.models import sklearn as flavor
    from registry.models.signature import infer_signature
    from registry.pyfunc import log_flavor

    head = x[:5] if x is not None else None
    signature = None
    if head is not None:
        try:
            signature = infer_signature(head, estimator.predict(head))
        except InvalidParameter as err:  # e.g. a column of dicts: log the model without one
            logger.info("autolog logs the model without a signature: %s", err.message)

    def save(path: Path, model_id: str, run_id: str | None) -> None:
        flavor.save_model(
            estimator, path, "cloudpickle", signature, run_id=run_id, model_id=model_id
        )

    log_flavor("model", save, ("python_function", "sklearn"))
