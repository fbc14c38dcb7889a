"""xgboost models: save, log and load by URI, in MLflow's ``xgboost`` format."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from registry.entities import ModelInfo
from registry.models import xgboost as _flavor
from registry.models.saving import SignatureArg
from registry.pyfunc import download, log_flavor


def save_model(
    xgb_model: Any,
    path: str | os.PathLike[str],
    model_format: str = "ubj",
    signature: SignatureArg = None,
    input_example: Any = None,
    metadata: dict[str, Any] | None = None,
) -> None:
    """Save a Booster or XGBModel as a model directory (UBJSON by default).

    Raises:
        InvalidParameter: not a fitted xgboost model, an unknown format, or ``path`` not empty.
        FlavorNotInstalled: xgboost is not installed (``modelyard[xgboost]``).
    """
    _flavor.save_model(xgb_model, path, model_format, signature, input_example, metadata)


def log_model(
    xgb_model: Any,
    artifact_path: str | None = None,
    *,
    name: str | None = None,
    model_format: str = "ubj",
    signature: SignatureArg = None,
    input_example: Any = None,
    registered_model_name: str | None = None,
    metadata: dict[str, Any] | None = None,
) -> ModelInfo:
    """Log a Booster or XGBModel to the active run as a logged model.

    Raises:
        InvalidParameter: ``xgb_model`` is not a fitted xgboost model (nothing is logged then).
        FlavorNotInstalled: xgboost is not installed (``modelyard[xgboost]``).
    """

    def save(path: Path, model_id: str, run_id: str | None) -> None:
        _flavor.save_model(
            xgb_model,
            path,
            model_format,
            signature,
            input_example,
            metadata,
            run_id=run_id,
            model_id=model_id,
        )

    return log_flavor(
        name or artifact_path, save, ("python_function", "xgboost"), registered_model_name
    )


def load_model(model_uri: str, dst_path: str | os.PathLike[str] | None = None) -> Any:
    """Load the xgboost model a URI names, as its saved class (``Booster``, ``XGBRegressor``).

    Raises:
        NotFound: the URI names no model.
        InvalidParameter: the model has no xgboost flavor or its file is invalid.
        FlavorNotInstalled: xgboost is not installed (``modelyard[xgboost]``).
    """
    return _flavor.load_model(download(model_uri, dst_path))


def autolog(disable: bool = False, log_models: bool = True, **kwargs: Any) -> None:
    """Log params, per-iteration metrics and the model of ``xgb.train`` and ``XGBModel.fit``."""
    from registry.autolog import xgboost

    xgboost.autolog(disable=disable, log_models=log_models, **kwargs)
