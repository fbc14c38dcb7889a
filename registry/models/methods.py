"""A loaded model called through another of its prediction methods (``predict_proba``, ...).

Open Inference V2 clients name a classifier's outputs after its methods, as MLServer's
scikit-learn and XGBoost runtimes answer them: asking for ``predict_proba`` calls
``predict_proba`` on the same inputs.
"""

from __future__ import annotations

from typing import Any

from registry.models.runtime import Params, Runtime

SKLEARN_METHODS = ("predict", "predict_proba", "predict_log_proba", "predict_joint_log_proba")
XGBOOST_METHODS = ("predict", "predict_proba")


def method_runtime(loader_module: str, runtime: Runtime, method: str) -> Runtime | None:
    """``runtime`` calling the model's ``method`` instead, or None when the model has none.

    Only the prediction methods of scikit-learn estimators and XGBoost's scikit-learn
    wrappers count; any other name (or any other flavor) gives None.
    """
    model = runtime.model
    if loader_module == "mlflow.sklearn" and method in SKLEARN_METHODS:
        if not callable(getattr(model, method, None)):
            return None
        from registry.models import sklearn

        return sklearn.runtime(model, method)
    if loader_module == "mlflow.xgboost" and method in XGBOOST_METHODS:
        call = getattr(model, method, None)
        if not callable(call) or not hasattr(model, "get_booster"):
            return None  # a bare Booster has no predict_proba

        def predict(data: Any, params: Params) -> Any:
            return call(data)

        return Runtime(
            model=model,
            predict=predict,
            predict_array=call,
            feature_names=runtime.feature_names,
            needs_dataframe=runtime.needs_dataframe,
        )
    return None
