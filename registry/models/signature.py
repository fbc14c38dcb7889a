"""Infer a model signature from example data; re-exports the signature types and enforcement."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from registry.errors import InvalidParameter
from registry.models.enforcement import enforce_schema
from registry.models.inputs import is_sparse
from registry.models.schema import ColSpec, ModelSignature, Schema, TensorSpec

__all__ = [
    "ColSpec",
    "ModelSignature",
    "Schema",
    "TensorSpec",
    "enforce_schema",
    "infer_schema",
    "infer_signature",
]

_INFERRED_STRING = {"string": "string", "bytes": "binary", "boolean": "boolean"}


def infer_signature(model_input: Any, model_output: Any = None) -> ModelSignature:
    """Infer a signature from an input example and, optionally, the model's output on it.

    A DataFrame (or a dict of columns, or a list of dicts) gives a column schema; a numpy
    array or a scipy sparse matrix gives a tensor schema whose first dimension is ``-1``.

    Raises:
        InvalidParameter: the data is of a kind no schema can describe.
    """
    return ModelSignature(
        inputs=infer_schema(model_input),
        outputs=infer_schema(model_output) if model_output is not None else None,
    )


def infer_schema(data: Any) -> Schema:
    """Infer the schema of one piece of data (see ``infer_signature``).

    Raises:
        InvalidParameter: the data is of a kind no schema can describe.
    """
    if isinstance(data, pd.DataFrame):
        return Schema(tuple(_column_spec(data[c], str(c)) for c in data.columns))
    if isinstance(data, pd.Series):
        return Schema((_column_spec(data, None if data.name is None else str(data.name)),))
    if isinstance(data, np.ndarray) or is_sparse(data):
        return Schema((TensorSpec(data.dtype.name, (-1, *data.shape[1:])),))
    if isinstance(data, dict) or (
        isinstance(data, list) and data and all(isinstance(r, dict) for r in data)
    ):
        frame = pd.DataFrame(data) if isinstance(data, list) else pd.DataFrame(dict(data))
        return infer_schema(frame)
    if isinstance(data, list):
        return infer_schema(np.asarray(data))
    raise InvalidParameter(
        f"cannot infer a schema from {type(data).__name__}: "
        "expected a pandas DataFrame or Series, a numpy array, a scipy sparse matrix, "
        "a dict of columns or a list"
    )


def _column_spec(col: pd.Series, name: str | None) -> ColSpec:
    required = not bool(col.isna().any())
    return ColSpec(_column_type(col), name, required)


def _column_type(col: pd.Series) -> str:
    dtype = col.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "boolean"
    if pd.api.types.is_integer_dtype(dtype):
        return "long" if dtype.itemsize >= 8 else "integer"
    if pd.api.types.is_float_dtype(dtype):
        return "double" if dtype.itemsize >= 8 else "float"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "datetime"
    inferred = pd.api.types.infer_dtype(col, skipna=True)
    if inferred in _INFERRED_STRING:
        return _INFERRED_STRING[inferred]
    raise InvalidParameter(
        f"cannot infer a type for column {_name_of(col)!r}: values are {inferred}; "
        "expected one of boolean, integer, long, float, double, string, binary, datetime"
    )


def _name_of(col: pd.Series) -> str:
    return "<unnamed>" if col.name is None else str(col.name)
