"""``load_predictor``: open any model directory, ours or MLflow's, without importing mlflow.

Dispatch follows ``flavors.python_function.loader_module`` and the flavor blocks beside it, as
MLflow's ``pyfunc.load_model`` does. Recorded ``file_hashes`` are checked before anything is
deserialised.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import os
from pathlib import Path

from registry.errors import InvalidParameter
from registry.models import pyfunc
from registry.models.mlmodel import MLModel, inside, read_mlmodel, verify_file_hashes
from registry.models.predictor import Predictor
from registry.models.runtime import Runtime, add_code_dir

logger = logging.getLogger(__name__)

_MLFLOW_PYFUNC = "mlflow.pyfunc.model"


def load_predictor(path: str | os.PathLike[str], *, trust_skops_types: bool = False) -> Predictor:
    """Load the model directory at ``path`` and return a ``Predictor`` for it.

    ``trust_skops_types`` loads a skops model even when it records types outside sklearn, numpy
    and scipy classes (which can run code): the operator's explicit choice, never the default.

    Raises:
        InvalidParameter: there is no MLmodel or no python_function flavor, a model file was
            modified (sha256 mismatch), the loader module is not supported, or the model is an
            MLflow custom pyfunc model and mlflow is not installed.
        FlavorNotInstalled: the flavor's library (scikit-learn, xgboost) is not installed.
    """
    model_dir = Path(path)
    mlmodel = read_mlmodel(model_dir)
    conf = mlmodel.python_function
    if conf is None:
        flavors = ", ".join(mlmodel.flavors) or "none"
        raise InvalidParameter(
            f"model at {model_dir} has no python_function flavor (flavors: {flavors})"
        )
    loader_module = str(conf.get("loader_module", ""))
    runtime = _runtime(model_dir, mlmodel, loader_module, trust_skops_types)
    predictor = Predictor(mlmodel, runtime)
    logger.info("loaded %s model from %s", loader_module, model_dir)
    return predictor


def _runtime(
    model_dir: Path, mlmodel: MLModel, loader_module: str, trust_skops_types: bool
) -> Runtime:
    # Flavor modules are imported on demand: serving an sklearn model never imports xgboost.
    if loader_module == "mlflow.sklearn":
        from registry.models import sklearn

        predict_fn = str((mlmodel.python_function or {}).get("predict_fn") or "predict")
        estimator = sklearn.load_estimator(
            model_dir, mlmodel, trust_recorded_types=trust_skops_types
        )
        return sklearn.runtime(estimator, predict_fn)
    if loader_module == "mlflow.xgboost":
        from registry.models import xgboost

        return xgboost.runtime(xgboost.load_xgb(model_dir, mlmodel))
    if loader_module == pyfunc.LOADER_MODULE:
        return pyfunc.runtime(*pyfunc.load_python_model(model_dir, mlmodel))
    if loader_module == _MLFLOW_PYFUNC:
        return _mlflow_pyfunc_runtime(model_dir, mlmodel)
    raise InvalidParameter(
        f"model at {model_dir} uses loader_module {loader_module!r}; supported: mlflow.sklearn, "
        f"mlflow.xgboost, {_MLFLOW_PYFUNC} (with mlflow installed) and {pyfunc.LOADER_MODULE}"
    )


def _mlflow_pyfunc_runtime(model_dir: Path, mlmodel: MLModel) -> Runtime:
    if importlib.util.find_spec("mlflow") is None:
        raise InvalidParameter(
            f"model at {model_dir} is an MLflow custom pyfunc model ({_MLFLOW_PYFUNC}); "
            "loading it needs the mlflow package: pip install mlflow-skinny"
        )
    verify_file_hashes(model_dir, mlmodel, [])
    conf = mlmodel.python_function or {}
    add_code_dir(model_dir, conf)
    data_path = inside(model_dir, str(conf["data"])) if conf.get("data") else model_dir
    module = importlib.import_module(_MLFLOW_PYFUNC)
    wrapped = module._load_pyfunc(str(data_path))
    return Runtime(model=wrapped, predict=lambda data, params: wrapped.predict(data, params=params))
