"""The xgboost flavor: Boosters and the sklearn wrappers, in xgboost's native format only.

Models are written with ``save_model`` as UBJSON (``model.ubj``); ``.json`` and the legacy
binary format written by MLflow load too. Pickle is never used, so loading runs no code.
xgboost is the ``modelyard[xgboost]`` extra, imported on first use.
"""

from __future__ import annotations

import ctypes
import importlib
import importlib.util
import json
import os
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from registry.errors import InvalidParameter
from registry.models.dependencies import require
from registry.models.inputs import is_sparse
from registry.models.mlmodel import MLModel, inside, read_mlmodel, verify_file_hashes
from registry.models.runtime import Params, Runtime
from registry.models.saving import SaveSpec, SignatureArg, python_function_block, save_model_dir

FLAVOR = "xgboost"
FORMATS = ("ubj", "json")


def save_model(
    xgb_model: Any,
    path: str | os.PathLike[str],
    model_format: str = "ubj",
    signature: SignatureArg = None,
    input_example: Any = None,
    metadata: dict[str, Any] | None = None,
    run_id: str | None = None,
    model_id: str | None = None,
    artifact_path: str | None = None,
) -> MLModel:
    """Save an xgboost ``Booster`` or sklearn-style ``XGBModel`` as an MLflow model directory.

    Raises:
        InvalidParameter: ``xgb_model`` is not a fitted xgboost model, the format is unknown,
            or ``path`` exists and is not empty. Nothing is written then.
        FlavorNotInstalled: xgboost is not installed.
    """
    xgb = require("xgboost", FLAVOR)
    if not isinstance(xgb_model, xgb.Booster | xgb.XGBModel):
        raise InvalidParameter(
            "xgboost.save_model expected an xgboost Booster or a fitted XGBModel "
            "(XGBRegressor, XGBClassifier, ...), "
            f"got {type(xgb_model).__module__}.{type(xgb_model).__qualname__}"
        )
    if model_format not in FORMATS:
        raise InvalidParameter(f"model_format must be one of {', '.join(FORMATS)}")
    filename = f"model.{model_format}"
    if isinstance(xgb_model, xgb.XGBModel):
        # sklearn's NotFittedError is a ValueError; naming it would need scikit-learn.
        try:
            xgb_model.get_booster()
        except (xgb.core.XGBoostError, ValueError) as exc:
            raise InvalidParameter(f"the xgboost model is not fitted: {exc}") from exc
    model_class = f"{type(xgb_model).__module__}.{type(xgb_model).__qualname__}"
    spec = SaveSpec(
        flavor_name="xgboost",
        flavor_conf={
            "code": None,
            "data": filename,
            "model_class": model_class,
            "model_format": model_format,
            "xgb_version": xgb.__version__,
        },
        python_function=python_function_block("mlflow.xgboost", data=filename),
        write_payload=lambda staging: xgb_model.save_model(str(staging / filename)),
        distributions=["xgboost", "numpy", "pandas"],
        predict=lambda data: runtime(xgb_model).predict(data, None),
        signature=signature,
        input_example=input_example,
        metadata=metadata,
        stamps={"run_id": run_id, "model_id": model_id, "artifact_path": artifact_path},
    )
    return save_model_dir(path, spec)


def load_model(path: str | os.PathLike[str]) -> Any:
    """Load the model of a directory saved by us or by ``mlflow.xgboost``, as its saved class.

    Raises:
        InvalidParameter: the directory has no xgboost model, a file was tampered with, or
            ``model_class`` is not an xgboost model class.
        FlavorNotInstalled: xgboost is not installed, or scikit-learn is not and the model is
            one of xgboost's scikit-learn wrappers (``XGBRegressor``, ...).
    """
    model_dir = Path(path)
    return load_xgb(model_dir, read_mlmodel(model_dir))


def load_xgb(model_dir: Path, mlmodel: MLModel) -> Any:
    """Load the model named by an already parsed MLmodel (hashes are checked first).

    Raises:
        InvalidParameter: as ``load_model``.
        FlavorNotInstalled: as ``load_model``.
    """
    conf = mlmodel.flavors.get("xgboost") or {}
    filename = conf.get("data") or (mlmodel.python_function or {}).get("data")
    if not filename:
        raise InvalidParameter(f"{model_dir} has no xgboost model (no xgboost flavor)")
    file = inside(model_dir, str(filename))
    model_class = str(conf.get("model_class") or "xgboost.core.Booster")
    xgb = _import_xgboost(booster_only=model_class == "xgboost.core.Booster")
    cls = _model_class(model_class)
    verify_file_hashes(model_dir, mlmodel, [str(filename)])
    if not issubclass(cls, xgb.Booster):
        require("sklearn", FLAVOR, extra="sklearn")  # XGBRegressor & co. are sklearn estimators
    model = cls()
    try:
        # xgboost guesses the format from the suffix; a buffer is sniffed, so MLflow 2's
        # ``model.xgb`` (UBJSON or legacy binary) loads without a warning.
        source = str(file) if file.suffix in (".json", ".ubj") else bytearray(file.read_bytes())
        model.load_model(source)
    except xgb.core.XGBoostError as exc:
        raise InvalidParameter(f"cannot read xgboost model {filename}: {exc}") from exc
    return model


_boosters_skip_sklearn = False
"""Set inside ``boosters_without_sklearn``: a Booster imports xgboost without scikit-learn."""


@contextmanager
def boosters_without_sklearn() -> Iterator[None]:
    """Inside the block, a Booster loaded on the main thread imports xgboost without scikit-learn.

    xgboost imports scikit-learn (and with it scipy.stats) when it is installed, for its
    ``XGBRegressor`` & co.: most of a second of a model server's cold start that a Booster never
    uses. Only a model server's master asks for this, around loading its models before it forks;
    anywhere else (a notebook, a script) xgboost is imported as usual, so ``XGBRegressor`` works.
    """
    global _boosters_skip_sklearn
    previous, _boosters_skip_sklearn = _boosters_skip_sklearn, True
    try:
        yield
    finally:
        _boosters_skip_sklearn = previous


def _import_xgboost(booster_only: bool) -> Any:
    """xgboost; imported without scikit-learn inside ``boosters_without_sklearn`` for a Booster.

    A wrapper model loaded later in such a process gets xgboost imported again, with it.

    Raises:
        FlavorNotInstalled: xgboost is not installed.
    """
    loaded = sys.modules.get("xgboost")
    if loaded is not None:
        compat = getattr(loaded, "compat", None)
        if booster_only or getattr(compat, "SKLEARN_INSTALLED", False):
            return loaded
        if importlib.util.find_spec("sklearn") is not None:
            for name in [n for n in sys.modules if n == "xgboost" or n.startswith("xgboost.")]:
                del sys.modules[name]  # Boosters loaded already keep the modules they hold
        return require("xgboost", FLAVOR)
    if (
        not booster_only
        or not _boosters_skip_sklearn
        or "sklearn" in sys.modules
        # Another thread may import scikit-learn meanwhile, and would find it missing.
        or threading.current_thread() is not threading.main_thread()
    ):
        return require("xgboost", FLAVOR)
    sys.modules["sklearn"] = None  # type: ignore[assignment]  # ``import sklearn`` fails
    try:
        return require("xgboost", FLAVOR)
    finally:
        del sys.modules["sklearn"]


def _model_class(qualified: str) -> Any:
    xgb = require("xgboost", FLAVOR)
    module_name, _, name = qualified.rpartition(".")
    if module_name.split(".", 1)[0] != "xgboost":
        raise InvalidParameter(f"model_class {qualified} is not an xgboost class")
    cls = getattr(importlib.import_module(module_name), name, None)
    if not isinstance(cls, type) or not issubclass(cls, xgb.Booster | xgb.XGBModel):
        raise InvalidParameter(f"model_class {qualified} is not an xgboost model class")
    return cls


def runtime(model: Any) -> Runtime:
    """How to call a loaded Booster or XGBModel (a DMatrix with the right feature names)."""
    xgb = require("xgboost", FLAVOR)
    booster = model if isinstance(model, xgb.Booster) else model.get_booster()
    names = list(booster.feature_names) if booster.feature_names else None
    types = booster.feature_types or []
    if isinstance(model, xgb.Booster):

        def predict(data: Any, params: Params) -> Any:
            return model.predict(_dmatrix(xgb, data, names))

        predict_array = _dense_predict(model)

    else:

        def predict(data: Any, params: Params) -> Any:
            return model.predict(data)

        predict_array = model.predict

    return Runtime(
        model=model,
        predict=predict,
        predict_array=predict_array,
        feature_names=names,
        needs_dataframe="c" in types,
    )


def _dense_predict(booster: Any) -> Callable[[np.ndarray], Any]:
    """``booster.inplace_predict``, calling xgboost's C function directly for a float64 array.

    The same C call with the same arguments ``inplace_predict`` makes, so the same numbers;
    without the Python wrapper's per-call checks, which cost more than the C call itself for
    one row. Anything but a C-contiguous 2-D float64 array of the model's width, or an xgboost
    without that C function, goes to ``inplace_predict`` (which raises its own errors).

    Each thread passes its own proxy DMatrix, made once, where ``inplace_predict`` passes none.
    Without one, xgboost makes a proxy per call, whose context reads the cgroup's CPU quota
    from two files under ``/sys/fs/cgroup``: measured, 40% of a one-row predict of 100 trees.
    The proxy only points at the array of the call in progress (xgboost uses the same
    mechanism when ``inplace_predict`` gets a ``base_margin``); one per thread, as a proxy holds
    its call's data.
    """
    try:
        from xgboost import core

        predict_dense = core._LIB.XGBoosterPredictFromDense
        make_proxy = core._ProxyDMatrix
    except (ImportError, AttributeError):  # pragma: no cover - another xgboost's internals
        return booster.inplace_predict  # type: ignore[no-any-return]
    proxies = threading.local()
    width = booster.num_features()
    # inplace_predict's own arguments for predict_type="value" and the default iteration range.
    args = json.dumps(
        {
            "type": 0,
            "training": False,
            "iteration_begin": 0,
            "iteration_end": 0,
            "missing": float("nan"),
            "strict_shape": False,
            "cache_id": 0,
        }
    ).encode()

    def predict(x: np.ndarray) -> Any:
        if not (
            isinstance(x, np.ndarray)
            and x.dtype.str == "<f8"
            and x.ndim == 2
            and x.shape[1] == width
            and x.shape[0] > 0
            and x.flags.c_contiguous
        ):
            return booster.inplace_predict(x)
        interface = (
            f'{{"data": [{x.ctypes.data}, true], "shape": [{x.shape[0]}, {width}],'
            ' "strides": null, "typestr": "<f8", "version": 3}'
        )
        out = ctypes.POINTER(ctypes.c_float)()
        shape = ctypes.POINTER(ctypes.c_uint64)()  # xgboost's bst_ulong
        dims = ctypes.c_uint64()
        proxy = getattr(proxies, "proxy", None)
        if proxy is None:
            proxy = proxies.proxy = make_proxy()
        status = predict_dense(
            booster.handle,
            interface.encode(),
            args,
            proxy.handle,
            ctypes.byref(shape),
            ctypes.byref(dims),
            ctypes.byref(out),
        )
        if status != 0:
            return booster.inplace_predict(x)  # raises xgboost's error
        sizes = tuple(int(shape[i]) for i in range(dims.value))
        result = np.empty(sizes, dtype=np.float32)
        ctypes.memmove(result.ctypes.data, out, result.nbytes)
        return result

    return predict


def _dmatrix(xgb: Any, data: Any, names: list[str] | None) -> Any:
    if isinstance(data, pd.DataFrame):
        return xgb.DMatrix(data)
    if isinstance(data, str | bytes | os.PathLike):
        # DMatrix reads a string as a file path (MLflow's loader fails on it the same way).
        raise InvalidParameter(f"an xgboost model predicts on rows, not on {type(data).__name__}")
    if not (isinstance(data, np.ndarray | list) or is_sparse(data)):
        return xgb.DMatrix(data)  # a Series or a number, handed over as MLflow does
    matrix = data if is_sparse(data) else np.asarray(data)
    # Positional rows take the model's feature names, so a model trained on a DataFrame
    # accepts them (MLflow's loader refuses them).
    width = matrix.shape[1] if matrix.ndim == 2 else None
    return xgb.DMatrix(matrix, feature_names=names if width == len(names or ()) else None)
