"""``Predictor``: one way to call any loaded model, with its signature enforced."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from registry.errors import InvalidParameter
from registry.models.arrays import to_float_array
from registry.models.enforcement import coerce_input, enforce_schema
from registry.models.methods import method_runtime
from registry.models.mlmodel import MLModel
from registry.models.model_input import (
    ModelInput,
    as_array,
    as_data,
    csv_dtypes,
    from_tensors,
    integer_positions,
    reject_extra_columns,
    whole_tensor,
)
from registry.models.runtime import Runtime
from registry.models.schema import ModelSignature, Schema, TensorSpec

logger = logging.getLogger(__name__)


class Predictor:
    """A loaded model: ``predict`` for any input, ``predict_input`` for a serving request.

    ``model`` is the underlying object (an estimator, a Booster, a ``PythonModel``).
    ``input_columns`` is the column order ``predict_array`` expects (None when the model takes
    a tensor or declares nothing). ``needs_dataframe`` is False when the model is happy with a
    float64 ndarray in that order, so a server can skip pandas entirely. ``csv_dtypes`` is the
    dtype to read each signature column of a CSV body as (MLflow's ``pandas_types``).
    """

    def __init__(self, metadata: MLModel, runtime: Runtime) -> None:
        self.metadata = metadata
        self.model = runtime.model
        self._runtime = runtime
        self._schema: Schema | None = metadata.signature.inputs if metadata.signature else None
        names = self._schema.names if self._schema and not self._schema.is_tensor else None
        self._signature_columns = names
        features = runtime.feature_names
        if names is not None and features is not None and sorted(features) == sorted(names):
            self.input_columns: list[str] | None = features
        else:
            self.input_columns = names if self._schema is not None else features
        self._order = (
            [names.index(c) for c in self.input_columns]
            if names is not None and self.input_columns is not None and self.input_columns != names
            else None
        )
        self.needs_dataframe: bool = self._decide_needs_dataframe()
        self._integer_positions = integer_positions(self._schema, self.input_columns)
        self.csv_dtypes: dict[str, str] = csv_dtypes(self._schema)
        self._methods: dict[str, Predictor | None] = {}

    @property
    def signature(self) -> ModelSignature | None:
        """The model's signature, if it declares one."""
        return self.metadata.signature

    def _decide_needs_dataframe(self) -> bool:
        if self._runtime.predict_array is None or self._runtime.needs_dataframe:
            return True
        schema = self._schema
        if schema is None:
            return False
        if schema.is_tensor:
            spec = schema.specs[0]
            return not (
                len(schema.specs) == 1
                and isinstance(spec, TensorSpec)
                and len(spec.shape) == 2
                and np.dtype(spec.dtype).kind in "iuf"
            )
        features = self._runtime.feature_names
        if features is not None and self.input_columns != features:
            return True  # the model's own feature-name check must see the mismatch
        return not (schema.all_numeric and all(c.required for c in schema.columns))

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        """Predict from any ``PyFuncInput``, as ``mlflow.pyfunc.load_model(...).predict`` does.

        That is a DataFrame, Series, ndarray, scipy CSR/CSC matrix, list, dict or one scalar.
        With a column signature the input becomes a table of the declared columns (a sparse
        matrix is densified, up to ``inputs.MAX_DENSE_CELLS`` cells); with a tensor signature
        an array or a sparse matrix is checked and kept. Without a signature the model gets
        the input as given, except that lists and dicts become an array or a DataFrame.

        Raises:
            InvalidParameter: the input does not match the signature (the message names the
                column and what was expected), or a sparse matrix is too large to densify.
        """
        if not self.needs_dataframe and self._signature_columns and self._schema is not None:
            x = to_float_array(data, self._signature_columns, self._schema)
            return self._call_array(x if self._order is None else x[:, self._order])
        params = self._with_defaults(params)
        if self._schema is not None:
            return self._runtime.predict(enforce_schema(data, self._schema), params)
        # MLflow hands lists and dicts over as they are; serving passes decoded JSON through
        # here, and its models expect the array or DataFrame MLflow's scoring server makes.
        given = coerce_input(data) if isinstance(data, list | tuple | dict) else data
        return self._runtime.predict(given, params)

    def _with_defaults(self, params: dict[str, Any] | None) -> dict[str, Any] | None:
        declared = self.signature.params if self.signature else None
        if not declared:
            return params
        merged = {str(p["name"]): p.get("default") for p in declared if "name" in p}
        unknown = sorted(set(params or {}) - set(merged))
        if unknown:
            logger.warning("ignoring params not in the model's signature: %s", unknown)
        merged.update({k: v for k, v in (params or {}).items() if k in merged})
        return merged

    def predict_array(self, x: np.ndarray, params: dict[str, Any] | None = None) -> Any:
        """Predict from a 2-D numeric array whose columns are in ``input_columns`` order.

        Raises:
            InvalidParameter: the array's rank or row length is wrong, or a required column
                holds NaN.
        """
        array = np.asarray(x)
        if array.ndim != 2:
            raise InvalidParameter(f"expected a 2-D array, got shape {list(array.shape)}")
        columns = self.input_columns
        if columns is not None and array.shape[1] != len(columns):
            raise InvalidParameter(
                f"expected rows of {len(columns)} values (columns {', '.join(columns)}), "
                f"got rows of {array.shape[1]} values"
            )
        if self.needs_dataframe:
            return self.predict(pd.DataFrame(array, columns=columns), params)
        if self._schema is not None and self._schema.is_tensor:
            return self._call_array(enforce_schema(array, self._schema))
        if array.dtype != np.float64:
            array = array.astype(np.float64)
        if self._schema is not None and columns is not None and np.isnan(array).any():
            to_float_array(array, columns, self._schema)
        return self._call_array(array)

    def for_method(self, method: str) -> Predictor | None:
        """This model called through its prediction method ``method`` (``predict_proba``, ...).

        None when the model has no such method (a regressor's ``predict_proba``) or its flavor
        has no methods to choose from (a custom pyfunc model).
        """
        if method not in self._methods:
            conf = self.metadata.python_function or {}
            runtime = method_runtime(str(conf.get("loader_module", "")), self._runtime, method)
            self._methods[method] = None if runtime is None else Predictor(self.metadata, runtime)
        return self._methods[method]

    def predict_input(self, inp: ModelInput, *, drop_extra: bool = False) -> Any:
        """Predict on a decoded serving request, by the fastest path the model and input allow.

        A numeric input the model can take as one float64 array skips pandas (``input_array``);
        anything else goes through ``predict``, after MLflow's scoring-server casts. Columns
        the signature does not declare are refused unless ``drop_extra``, when they are
        dropped as MLflow drops them.

        Raises:
            InvalidParameter: the input breaks the signature (the message names the column).
        """
        if inp.kind == "tensors":
            whole = whole_tensor(inp, self.input_columns)
            if whole is not None and not self.needs_dataframe and not inp.params:
                return self.predict_array(whole)
            inp = from_tensors(inp, self.input_columns)
        array = self.input_array(inp)
        if array is not None:
            return self.predict_array(array)
        if not drop_extra:
            reject_extra_columns(inp, self._schema)
        return self.predict(as_data(inp, self._schema), inp.params)

    def input_array(self, inp: ModelInput) -> np.ndarray | None:
        """The request as the array ``predict_array`` takes, or None when it needs ``predict``.

        None when the model needs a DataFrame, the request has params, its columns differ
        from ``input_columns``, or its values are not all numbers.
        """
        if self.needs_dataframe or inp.params:
            return None
        if inp.kind == "tensors":
            whole = whole_tensor(inp, self.input_columns)
            return (
                whole
                if whole is not None
                else self.input_array(from_tensors(inp, self.input_columns))
            )
        return as_array(inp, self.input_columns, self._integer_positions)

    def _call_array(self, x: np.ndarray) -> Any:
        call = self._runtime.predict_array
        assert call is not None
        return call(x)
