"""The fast path for all-numeric column signatures: one float64 array, no per-column pandas."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from registry.errors import InvalidParameter
from registry.models.enforcement import check_missing, coerce_input, enforce_schema
from registry.models.inputs import densify, is_sparse
from registry.models.schema import ColSpec, Schema


def to_float_array(data: Any, columns: list[str], schema: Schema | None) -> np.ndarray:
    """Return ``data`` as a 2-D float64 array whose columns are ``columns``, in that order.

    This is the fast path for all-numeric column signatures: a numeric array, a list of lists
    or a numeric DataFrame converts in one numpy call. Anything else goes through
    ``enforce_schema`` so that errors carry the same messages.

    Raises:
        InvalidParameter: as ``enforce_schema``, or the row length is not ``len(columns)``.
    """
    array: np.ndarray | None = None
    if is_sparse(data):
        data = densify(data)
    if isinstance(data, np.ndarray) and data.dtype.kind in "iuf":
        array = data
    elif isinstance(data, list) and data and isinstance(data[0], list | tuple):
        array = _try(lambda: np.asarray(data, dtype=np.float64))
    elif isinstance(data, list) and data and isinstance(data[0], dict):
        # For the small requests a server sees, this beats building a DataFrame by 10x.
        array = _try(lambda: np.array([[r[c] for c in columns] for r in data], dtype=np.float64))
    elif isinstance(data, dict) and all(c in data for c in columns):
        array = _try(
            lambda: np.column_stack([np.asarray(data[c], dtype=np.float64) for c in columns])
        )
    elif isinstance(data, pd.DataFrame) and all(c in data.columns for c in columns):
        sub = data[columns]
        if all(
            pd.api.types.is_numeric_dtype(t) and not pd.api.types.is_bool_dtype(t)
            for t in sub.dtypes
        ):
            array = sub.to_numpy(dtype=np.float64)
    if array is not None and array.ndim == 1 and len(columns) == 1:
        array = array.reshape(-1, 1)
    if array is not None and (array.ndim != 2 or array.shape[1] != len(columns)):
        got = f"rows of {array.shape[1]} values" if array.ndim == 2 else f"shape {array.shape}"
        raise InvalidParameter(
            f"expected rows of {len(columns)} values (columns {', '.join(columns)}), got {got}"
        )
    if array is None:
        frame = enforce_schema(data, schema) if schema is not None else coerce_input(data)
        if isinstance(frame, pd.DataFrame):
            if schema is None:
                check_missing(frame, Schema(tuple(ColSpec("double", c) for c in columns)))
            frame = frame[columns]
        return to_float_array(np.asarray(frame, dtype=np.float64), columns, None)
    array = array.astype(np.float64, copy=False)
    if schema is not None:
        _check_nulls(array, columns, schema)
    return array


def _try(convert: Callable[[], np.ndarray]) -> np.ndarray | None:
    try:
        return convert()
    except (KeyError, ValueError, TypeError):
        return None


def _check_nulls(array: np.ndarray, columns: list[str], schema: Schema) -> None:
    nulls = np.isnan(array)
    if not nulls.any():
        return
    required = {c.name for c in schema.columns if c.required}
    for index, name in enumerate(columns):
        if name in required and nulls[:, index].any():
            row = int(np.argmax(nulls[:, index]))
            raise InvalidParameter(f"column '{name}': is required but row {row} is null")
