"""The scikit-learn flavor: save and load estimators in MLflow's ``sklearn`` format.

``skops`` (MLflow 3's default) loads without running arbitrary code: the types skops does not
trust by default are computed at save and recorded as ``skops_trusted_types`` in MLmodel. Only
types on an allow-list are ever trusted (classes from scikit-learn, numpy or scipy, and numpy
ufuncs): a function such as ``pydoc.pipepager`` listed there could run any command, so a model
that needs one is refused unless the caller explicitly trusts whatever the MLmodel lists.
scikit-learn and skops are the ``modelyard[sklearn]`` extra, imported on first use.
"""

from __future__ import annotations

import copy
import importlib
import os
import pickle
from pathlib import Path
from typing import Any

import cloudpickle
import numpy as np
import pandas as pd

from registry.errors import InvalidParameter
from registry.models.dependencies import require
from registry.models.mlmodel import MLModel, inside, read_mlmodel, verify_file_hashes
from registry.models.runtime import Params, Runtime, add_code_dir
from registry.models.saving import SaveSpec, SignatureArg, python_function_block, save_model_dir

FLAVOR = "sklearn"
FORMATS = ("skops", "cloudpickle", "pickle")
_FILES = {"skops": "model.skops", "cloudpickle": "model.pkl", "pickle": "model.pkl"}
_TRUSTED_PACKAGES = ("sklearn", "numpy", "scipy")
_PREDICT_FNS = ("predict", "predict_proba", "predict_log_proba", "predict_joint_log_proba")
_NEEDS_FRAME = ("ColumnTransformer", "FunctionTransformer")
_LINEAR = frozenset({"LinearRegression", "Ridge", "RidgeCV", "Lasso", "LassoCV", "ElasticNet"})
"""Regressors whose ``predict`` is ``X @ coef_ + intercept_`` once sklearn validated X (1.x)."""
_FORESTS = frozenset({"RandomForestRegressor", "ExtraTreesRegressor"})
"""Regressors whose ``predict`` is the mean of their trees' (``ForestRegressor``)."""


def save_model(
    sk_model: Any,
    path: str | os.PathLike[str],
    serialization_format: str = "skops",
    signature: SignatureArg = None,
    input_example: Any = None,
    metadata: dict[str, Any] | None = None,
    run_id: str | None = None,
    model_id: str | None = None,
    artifact_path: str | None = None,
    pyfunc_predict_fn: str = "predict",
) -> MLModel:
    """Save a fitted scikit-learn estimator as an MLflow-compatible model directory.

    With an ``input_example`` and no ``signature``, the signature is inferred from the
    example and the model's prediction on it (``signature=False`` turns that off).
    ``pyfunc_predict_fn`` picks the method a Predictor calls (e.g. ``predict_proba``).

    Raises:
        InvalidParameter: ``sk_model`` is not a scikit-learn estimator with ``predict``, the
            format is unknown, or ``path`` exists and is not empty. Nothing is written then.
        FlavorNotInstalled: scikit-learn (or skops, for that format) is not installed.
    """
    sklearn = require("sklearn", FLAVOR)
    from sklearn.base import BaseEstimator
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    if not isinstance(sk_model, BaseEstimator) or not callable(getattr(sk_model, "predict", None)):
        raise InvalidParameter(
            "sklearn.save_model expected a fitted scikit-learn estimator with predict(), "
            f"got {type(sk_model).__module__}.{type(sk_model).__qualname__}"
        )
    if pyfunc_predict_fn not in _PREDICT_FNS or not hasattr(sk_model, pyfunc_predict_fn):
        raise InvalidParameter(f"the model has no prediction method {pyfunc_predict_fn!r}")
    try:
        check_is_fitted(sk_model)
    except NotFittedError as exc:
        raise InvalidParameter(f"sklearn.save_model expected a fitted estimator: {exc}") from exc
    if serialization_format not in FORMATS:
        raise InvalidParameter(
            f"serialization_format must be one of {', '.join(FORMATS)}, "
            f"got {serialization_format!r}"
        )
    filename = _FILES[serialization_format]
    trusted = _dump_skops(sk_model) if serialization_format == "skops" else None
    payload = trusted[1] if trusted else _dump_pickle(sk_model, serialization_format)

    def write_payload(staging: Path) -> None:
        (staging / filename).write_bytes(payload)

    spec = SaveSpec(
        flavor_name="sklearn",
        flavor_conf={
            "code": None,
            "pickled_model": filename,
            "serialization_format": serialization_format,
            "sklearn_version": sklearn.__version__,
            "skops_trusted_types": trusted[0] if trusted else None,
        },
        python_function=python_function_block(
            "mlflow.sklearn", model_path=filename, predict_fn=pyfunc_predict_fn
        ),
        write_payload=write_payload,
        distributions=["scikit-learn", "numpy", "pandas", _distribution(serialization_format)],
        predict=getattr(sk_model, pyfunc_predict_fn),
        signature=signature,
        input_example=input_example,
        metadata=metadata,
        stamps={"run_id": run_id, "model_id": model_id, "artifact_path": artifact_path},
    )
    return save_model_dir(path, spec)


def _distribution(serialization_format: str) -> str:
    return "skops" if serialization_format == "skops" else "cloudpickle"


def _dump_skops(sk_model: Any) -> tuple[list[str], bytes]:
    skops_io = require("skops.io", FLAVOR)
    try:
        data: bytes = skops_io.dumps(sk_model)
        trusted = sorted(skops_io.get_untrusted_types(data=data))
        _refuse_untrusted(trusted, "the model")
        skops_io.loads(data, trusted=trusted)
    except Exception as exc:
        raise InvalidParameter(
            f"the model cannot be saved with skops ({exc}); "
            "use serialization_format='cloudpickle' for models holding custom code"
        ) from exc
    return trusted, data


def _dump_pickle(sk_model: Any, serialization_format: str) -> bytes:
    if serialization_format == "pickle":
        return pickle.dumps(sk_model)
    return bytes(cloudpickle.dumps(sk_model))


def load_model(path: str | os.PathLike[str]) -> Any:
    """Load the estimator of a model directory saved by us or by ``mlflow.sklearn``.

    Raises:
        InvalidParameter: the directory has no sklearn model, a file was tampered with, or
            the skops file needs types that were not recorded as trusted at save or that are
            not scikit-learn, numpy or scipy classes (see ``untrusted_types``).
        FlavorNotInstalled: scikit-learn (or skops, for that format) is not installed.
    """
    model_dir = Path(path)
    return load_estimator(model_dir, read_mlmodel(model_dir))


def load_estimator(model_dir: Path, mlmodel: MLModel, *, trust_recorded_types: bool = False) -> Any:
    """Load the estimator named by an already parsed MLmodel (hashes are checked first).

    ``trust_recorded_types`` trusts every type the MLmodel lists as ``skops_trusted_types``,
    functions included: only for a caller that has chosen to run the model's code (serving with
    ``SERVING_ALLOW_PICKLE=true``).

    Raises:
        InvalidParameter: as ``load_model``.
        FlavorNotInstalled: as ``load_model``.
    """
    conf = mlmodel.flavors.get("sklearn") or {}
    pyfunc = mlmodel.python_function or {}
    filename = conf.get("pickled_model") or pyfunc.get("model_path")
    if not filename:
        raise InvalidParameter(f"{model_dir} has no scikit-learn model (no sklearn flavor)")
    serialization_format = conf.get("serialization_format") or "pickle"
    if serialization_format not in FORMATS:
        raise InvalidParameter(f"unknown sklearn serialization_format {serialization_format!r}")
    file = inside(model_dir, str(filename))
    verify_file_hashes(model_dir, mlmodel, [str(filename)])
    require("sklearn", FLAVOR)
    if serialization_format == "skops":
        recorded = [str(t) for t in conf.get("skops_trusted_types") or []]
        return _load_skops(file, recorded, trust_recorded_types)
    add_code_dir(model_dir, pyfunc)
    with file.open("rb") as handle:
        return pickle.load(handle)


def untrusted_types(types: list[str]) -> list[str]:
    """The skops type names that are not safe to trust: all but sklearn, numpy and scipy classes.

    A name is safe when it resolves (importing only ``sklearn``, ``numpy`` or ``scipy`` modules)
    to a class defined in one of those packages, or to a numpy ufunc such as ``numpy.log1p``.
    Any other function, and anything from another package, can run code when skops calls it.
    """
    return [name for name in types if not _is_safe_type(name)]


def _is_safe_type(name: str) -> bool:
    module_name, _, attribute = name.rpartition(".")
    if module_name.split(".", 1)[0] not in _TRUSTED_PACKAGES or not attribute:
        return False
    try:
        found = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError):
        return False
    if isinstance(found, type):
        return str(found.__module__).split(".", 1)[0] in _TRUSTED_PACKAGES
    import numpy as np

    return isinstance(found, np.ufunc)


def _refuse_untrusted(types: list[str], what: str) -> None:
    refused = untrusted_types(types)
    if refused:
        raise InvalidParameter(
            f"{what} needs skops to trust {refused}, which are not scikit-learn, numpy or scipy "
            "classes and could run code when loaded; refusing",
            types=refused,
        )


def _load_skops(file: Path, recorded: list[str], trust_recorded: bool) -> Any:
    if not trust_recorded:
        _refuse_untrusted(recorded, file.name)
    skops_io = require("skops.io", FLAVOR)
    needed = skops_io.get_untrusted_types(file=file)
    unknown = sorted(set(needed) - set(recorded))
    if unknown:
        raise InvalidParameter(
            f"{file.name} holds types not recorded as trusted in MLmodel: {unknown}; refusing"
        )
    return skops_io.load(file, trusted=needed)


def runtime(estimator: Any, predict_fn: str = "predict") -> Runtime:
    """How to call a loaded estimator: as given, or with a float64 array in feature order.

    ``predict_fn`` is MLmodel's ``python_function.predict_fn`` (e.g. ``predict_proba``).

    Raises:
        InvalidParameter: ``predict_fn`` is not a prediction method the estimator has.
    """
    if predict_fn not in _PREDICT_FNS or not callable(getattr(estimator, predict_fn, None)):
        raise InvalidParameter(f"the model has no prediction method {predict_fn!r}")
    names = getattr(estimator, "feature_names_in_", None)
    feature_names = [str(n) for n in names] if names is not None else None
    call = getattr(estimator, predict_fn)
    fast = getattr(_without_feature_names(estimator) if feature_names else estimator, predict_fn)
    if predict_fn == "predict":
        fast = _unvalidated_predict(estimator, fast)

    def predict(data: Any, params: Params) -> Any:
        if not isinstance(data, pd.DataFrame):
            return fast(data)  # positional input: trust its order, as sklearn does
        if feature_names is None:
            return call(data.to_numpy())
        if set(feature_names) <= set(data.columns):
            return call(data[feature_names])
        return call(data)

    return Runtime(
        model=estimator,
        predict=predict,
        predict_array=fast,
        feature_names=feature_names,
        needs_dataframe=_needs_frame(estimator),
    )


def _unvalidated_predict(estimator: Any, checked: Any) -> Any:
    """``predict`` skipping sklearn's per-call overhead where its checks cannot fail.

    For one row, ``check_array``, the feature-name checks and (for a forest) joblib's
    dispatch cost many times the model's own arithmetic. An array that is 2-D float64, finite,
    non-empty and of the fitted width passes sklearn's checks unchanged, so it gets sklearn's
    own computation on it without them; anything else goes to ``checked``, the estimator's own
    ``predict``, which answers as sklearn does (a NaN is still its ``ValueError``).
    Other estimators get ``checked`` itself.
    """
    name = type(estimator).__name__
    if name in _LINEAR and _is_sklearn(estimator, "linear_model"):
        compute = _linear(estimator)
    elif name in _FORESTS and _is_sklearn(estimator, "ensemble"):
        compute = _forest(estimator)
    else:
        return checked
    width = int(estimator.n_features_in_)

    def predict(x: Any) -> Any:
        if (
            isinstance(x, np.ndarray)
            and x.dtype == np.float64
            and x.ndim == 2
            and x.shape[0] > 0
            and x.shape[1] == width
            and np.isfinite(x).all()
        ):
            return compute(x)
        return checked(x)

    return predict


def _is_sklearn(estimator: Any, package: str) -> bool:
    return str(type(estimator).__module__).startswith(f"sklearn.{package}.")


def _linear(estimator: Any) -> Any:
    # LinearModel._decision_function once validate_data has passed X through.
    coef = estimator.coef_ if estimator.coef_.ndim == 1 else estimator.coef_.T
    intercept = estimator.intercept_
    return lambda x: x @ coef + intercept


def _forest(estimator: Any) -> Any:
    # ForestRegressor.predict as n_jobs=1 computes it: each tree's prediction on float32 X,
    # summed in order, then divided; without joblib, which costs 4 ms a call (80% of a one-row
    # predict). A model saved with n_jobs=-1 runs sequentially too: a server's workers already
    # use the cores (and with threads, sklearn's own sum order varies from call to call).
    trees = list(estimator.estimators_)
    outputs = int(estimator.n_outputs_)

    def predict(x: np.ndarray) -> np.ndarray:
        x32 = np.ascontiguousarray(x, dtype=np.float32)
        total = np.zeros((x.shape[0], outputs) if outputs > 1 else x.shape[0])
        for tree in trees:
            total += tree.predict(x32, check_input=False)
        total /= len(trees)
        return total

    return predict


def _without_feature_names(estimator: Any) -> Any:
    # sklearn warns when an estimator fitted on a DataFrame gets an ndarray; the fast path
    # orders columns itself, so it calls a shallow copy that has forgotten the names.
    from sklearn.pipeline import Pipeline

    if isinstance(estimator, Pipeline):
        name, first = estimator.steps[0]
        return Pipeline([(name, _without_feature_names(first)), *estimator.steps[1:]])
    clone = copy.copy(estimator)
    if "feature_names_in_" in vars(clone):
        del clone.feature_names_in_
    return clone


def _needs_frame(estimator: Any) -> bool:
    from sklearn.pipeline import Pipeline

    if type(estimator).__name__ in _NEEDS_FRAME:
        return True
    steps = estimator.steps if isinstance(estimator, Pipeline) else []
    return any(_needs_frame(step) for _, step in steps if step not in (None, "passthrough"))
