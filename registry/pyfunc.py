"""Generic models: ``load_model(uri)`` gives a Predictor for any flavor; custom Python models.

``load_model`` accepts ``runs:/<run_id>/<path>``, ``models:/<name>/<version|stage|latest>``,
``models:/<name>@<alias>``, ``models:/m-<id>``, ``mlflow-artifacts:/...`` and local paths.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from registry import fluent
from registry.client.model_logging import log_model_files
from registry.client.model_uris import download_model
from registry.entities import ModelInfo
from registry.errors import InvalidParameter
from registry.models.pyfunc import PythonModel, PythonModelContext

__all__ = ["PythonModel", "PythonModelContext", "load_model", "log_model", "save_model"]


def download(model_uri: str, dst_path: str | os.PathLike[str] | None = None) -> Path:
    """Fetch the model directory ``model_uri`` names into ``dst_path`` (a temp dir if None).

    Raises:
        NotFound: the URI names no model.
    """
    dst = Path(dst_path) if dst_path else Path(tempfile.mkdtemp(prefix="modelyard-model-"))
    return download_model(model_uri, dst, fluent.client())


def load_model(model_uri: str, dst_path: str | os.PathLike[str] | None = None) -> Any:
    """Load any saved model (sklearn, xgboost, custom python) as a Predictor with ``predict``.

    Raises:
        NotFound: the URI names no model.
        InvalidParameter: the model files are invalid or tampered with.
        FlavorNotInstalled: the model's flavor library is not installed (the message names
            the extra).
    """
    from registry.models import load_predictor

    return load_predictor(download(model_uri, dst_path))


def save_model(
    path: str | os.PathLike[str],
    python_model: PythonModel | None = None,
    artifacts: dict[str, str | os.PathLike[str]] | None = None,
    **kwargs: Any,
) -> None:
    """Save a ``PythonModel`` (with optional artifact files) as a model directory.

    Raises:
        InvalidParameter: ``python_model`` is not a PythonModel, or ``path`` is not empty.
    """
    from registry.models import pyfunc

    if not isinstance(python_model, PythonModel):
        raise InvalidParameter(
            "pyfunc.save_model expected a registry.pyfunc.PythonModel, "
            f"got {type(python_model).__module__}.{type(python_model).__qualname__}"
        )
    pyfunc.save_model(path, python_model=python_model, artifacts=artifacts, **kwargs)


def log_model(
    artifact_path: str | None = None,
    python_model: PythonModel | None = None,
    artifacts: dict[str, str | os.PathLike[str]] | None = None,
    *,
    name: str | None = None,
    registered_model_name: str | None = None,
    **kwargs: Any,
) -> ModelInfo:
    """Log a ``PythonModel`` to the active run as an MLflow 3 logged model.

    Raises:
        InvalidParameter: ``python_model`` is not a PythonModel (nothing is logged then).
    """

    def save(path: Path, model_id: str, run_id: str | None) -> None:
        save_model(path, python_model, artifacts, model_id=model_id, run_id=run_id, **kwargs)

    return log_flavor(name or artifact_path, save, ("python_function",), registered_model_name)


def log_flavor(
    name: str | None,
    save: Callable[[Path, str, str | None], None],
    flavors: tuple[str, ...],
    registered_model_name: str | None = None,
) -> ModelInfo:
    """Log a model written by ``save`` under the active run (or none, as MLflow 3 allows).

    Raises:
        InvalidParameter: no model name was given, or ``save`` rejected the model.
    """
    if not name:
        raise InvalidParameter("log_model needs a name (name='model').")
    c = fluent.client()
    current = fluent.active_run()
    run = c.get_run(current.info.run_id) if current else None
    experiment_id = run.info.experiment_id if run else fluent.current_experiment_id()
    return log_model_files(
        c,
        experiment_id,
        run,
        name,
        save,
        flavors=flavors,
        registered_model_name=registered_model_name,
    )
