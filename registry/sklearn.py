"""scikit-learn models: save, log and load by URI, in MLflow's ``sklearn`` format."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from registry.entities import ModelInfo
from registry.models import sklearn as _flavor
from registry.models.saving import SignatureArg
from registry.pyfunc import download, log_flavor


def save_model(
    sk_model: Any,
    path: str | os.PathLike[str],
    serialization_format: str = "skops",
    signature: SignatureArg = None,
    input_example: Any = None,
    metadata: dict[str, Any] | None = None,
) -> None:
    """Save a fitted estimator as a model directory (skops by default, or cloudpickle/pickle).

    Raises:
        InvalidParameter: not a fitted estimator, an unknown format, or ``path`` not empty.
        FlavorNotInstalled: scikit-learn is not installed (``modelyard[sklearn]``).
    """
    _flavor.save_model(sk_model, path, serialization_format, signature, input_example, metadata)


def log_model(
    sk_model: Any,
    artifact_path: str | None = None,
    *,
    name: str | None = None,
    serialization_format: str = "skops",
    signature: SignatureArg = None,
    input_example: Any = None,
    registered_model_name: str | None = None,
    metadata: dict[str, Any] | None = None,
) -> ModelInfo:
    """Log an estimator to the active run as a logged model (``runs:/<run>/<name>``).

    Raises:
        InvalidParameter: ``sk_model`` is not a fitted estimator (nothing is logged then).
        FlavorNotInstalled: scikit-learn is not installed (``modelyard[sklearn]``).
    """

    def save(path: Path, model_id: str, run_id: str | None) -> None:
        _flavor.save_model(
            sk_model,
            path,
            serialization_format,
            signature,
            input_example,
            metadata,
            run_id=run_id,
            model_id=model_id,
        )

    return log_flavor(
        name or artifact_path, save, ("python_function", "sklearn"), registered_model_name
    )


def load_model(model_uri: str, dst_path: str | os.PathLike[str] | None = None) -> Any:
    """Load the estimator a model URI names (as its own class, e.g. ``Lasso``).

    Raises:
        NotFound: the URI names no model.
        InvalidParameter: the model has no sklearn flavor or its file is tampered with.
        FlavorNotInstalled: scikit-learn is not installed (``modelyard[sklearn]``).
    """
    return _flavor.load_model(download(model_uri, dst_path))


def autolog(disable: bool = False, log_models: bool = True, **kwargs: Any) -> None:
    """Log params, training metrics and the model of every ``fit`` (``disable=True`` undoes it)."""
    from registry.autolog import sklearn

    sklearn.autolog(disable=disable, log_models=log_models, **kwargs)
