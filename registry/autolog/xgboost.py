"""XGBoost autologging: ``xgb.train`` and ``XGBModel.fit`` log params, per-round metrics, model.

Each evaluation set's metrics are logged per boosting round as ``<eval name>-<metric>`` with the
round as step. Under early stopping, ``best_iteration`` and ``stopped_iteration`` are logged and
the best round's metrics are logged again at step ``stopped_iteration + 1``, as MLflow does.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from registry import fluent
from registry.autolog.patching import outermost, patch, safely, unpatch
from registry.autolog.session import training_run
from registry.client.tracking import now_ms
from registry.entities import Metric, Param
from registry.models.dependencies import require

logger = logging.getLogger(__name__)

FLAVOR = "xgboost"
_settings: dict[str, Any] = {"log_models": True}
_TRAIN_ARGS = ("params", "dtrain", "num_boost_round", "evals", "obj", "maximize",
               "early_stopping_rounds", "evals_result")  # fmt: skip


def autolog(disable: bool = False, log_models: bool = True, **_ignored: Any) -> None:
    """Patch ``xgboost.train`` and the sklearn-API ``fit``; ``disable=True`` restores them.

    Raises:
        FlavorNotInstalled: xgboost is not installed (``pip install 'modelyard[xgboost]'``).
    """
    unpatch(FLAVOR)
    if disable:
        return
    xgboost = require("xgboost", FLAVOR)

    _settings["log_models"] = log_models
    patch(FLAVOR, xgboost, "train", _train_wrapper)
    for cls in (xgboost.XGBModel, xgboost.XGBClassifier, xgboost.XGBRanker):
        if "fit" in cls.__dict__:
            patch(FLAVOR, cls, "fit", _fit_wrapper)


def _train_wrapper(original: Any) -> Any:
    def train(*args: Any, **kwargs: Any) -> Any:
        with outermost(FLAVOR) as first:
            if not first:
                return original(*args, **kwargs)
            bound = dict(zip(_TRAIN_ARGS, args, strict=False)) | kwargs
            results: dict[str, Any] | None = bound.get("evals_result")
            if results is None:
                results = {}
                kwargs["evals_result"] = results
            with training_run() as run_id:
                safely("log params", lambda: _log_train_params(run_id, bound))
                booster = original(*args, **kwargs)
                safely("log metrics", lambda: _log_rounds(run_id, results, booster))
                if _settings["log_models"]:
                    safely("log the model", lambda: _log_model(booster))
                return booster

    return train


def _fit_wrapper(original: Any) -> Any:
    def fit(self: Any, *args: Any, **kwargs: Any) -> Any:
        with outermost(FLAVOR) as first:
            if not first:
                return original(self, *args, **kwargs)
            with training_run() as run_id:
                params = {k: v for k, v in self.get_params().items() if v is not None}
                safely("log params", lambda: _log_param_dict(run_id, params))
                result = original(self, *args, **kwargs)
                results = safely("read eval results", self.evals_result) or {}
                safely("log metrics", lambda: _log_rounds(run_id, results, self.get_booster()))
                if _settings["log_models"]:
                    safely("log the model", lambda: _log_model(self))
                return result

    return fit


def _log_param_dict(run_id: str, params: dict[str, Any]) -> None:
    fluent.client().log_batch(run_id, params=[Param(k, str(v)[:6000]) for k, v in params.items()])


def _log_train_params(run_id: str, bound: dict[str, Any]) -> None:
    params = dict(bound.get("params") or {})
    for key in ("num_boost_round", "maximize", "early_stopping_rounds", "verbose_eval"):
        if bound.get(key) is not None:
            params[key] = bound[key]
    _log_param_dict(run_id, params)


def round_metrics(results: dict[str, dict[str, list[float]]], booster: Any) -> list[Metric]:
    """Per-round ``<eval>-<metric>`` points, plus the early-stopping summary when there is one."""
    ts = now_ms()
    points = [
        Metric(f"{data}-{name}", float(value), ts, step)
        for data, by_metric in results.items()
        for name, values in by_metric.items()
        for step, value in enumerate(values)
    ]
    best = getattr(booster, "attr", lambda _key: None)("best_iteration")
    if best is not None and points:
        stopped = max(p.step for p in points)
        points.append(Metric("best_iteration", float(best), ts, 0))
        points.append(Metric("stopped_iteration", float(stopped), ts, 0))
        points.extend(
            Metric(f"{data}-{name}", float(values[int(best)]), ts, stopped + 1)
            for data, by_metric in results.items()
            for name, values in by_metric.items()
        )
    return points


def _log_rounds(run_id: str, results: dict[str, Any], booster: Any) -> None:
    points = round_metrics(results, booster)
    if points:
        fluent.client().log_batch(run_id, metrics=points)


def _log_model(model: Any) -> None:
    from registry.models import xgboost as flavor
    from registry.pyfunc import log_flavor

    def save(path: Path, model_id: str, run_id: str | None) -> None:
        flavor.save_model(model, path, run_id=run_id, model_id=model_id)

    log_flavor("model", save, ("python_function", "xgboost"))
