"""Turn a parsed request into the input the model wants, predict, and translate its errors.

The fast path: a model that takes arrays (``needs_dataframe`` false) gets one numpy array built
straight from the decoded JSON rows, with no DataFrame and no per-column checks beyond the
column names, which are compared once. Everything else goes through ``Predictor.predict``, which
enforces the signature and names the offending column.
"""

from __future__ import annotations

import dataclasses
import logging
import weakref
from typing import Any

import numpy as np
import pandas as pd

from registry.errors import BadRequest, InvalidParameter, RegistryError
from registry.models.enforcement import cast_request_frame, enforce_params
from serving.loader import Predictor
from serving.protocols.mlflow import Invocation

logger = logging.getLogger(__name__)


def with_params(
    params: dict[str, Any] | None, predictor: Predictor
) -> tuple[dict[str, Any] | None, str | None]:
    """A request's params checked against the signature's params schema, and a Warning header.

    Undeclared params are dropped, as MLflow does, and the returned ``Warning`` value names
    them (None when nothing was dropped).

    Raises:
        InvalidParameter: a declared param has a value of the wrong type.
    """
    if not params:
        return params, None
    signature = predictor.signature
    checked, dropped = enforce_params(params, signature.params if signature else None)
    if not dropped:
        return checked, None
    logger.info("ignoring params not in the model's signature: %s", dropped)
    names = ", ".join(dropped)
    return checked, f'299 - "Ignored params not in the model\'s signature: {names}"'


def with_invocation_params(inv: Invocation, predictor: Predictor) -> tuple[Invocation, str | None]:
    """``with_params`` for an ``/invocations`` request.

    In an LLM-style body, the keys the params schema declares are params; the rest is data.
    """
    if inv.kind == "llm":
        signature = predictor.signature
        declared = {str(p.get("name")) for p in (signature.params or [])} if signature else set()
        data = {k: v for k, v in inv.data.items() if k not in declared}
        given = {k: v for k, v in inv.data.items() if k in declared}
        inv = Invocation("llm", data, params=given or None)
    if not inv.params:
        return inv, None
    params, warning = with_params(inv.params, predictor)
    return dataclasses.replace(inv, params=params or None), warning


def as_array(inv: Invocation, predictor: Predictor) -> np.ndarray | None:
    """The request as one 2-D numeric array in the model's column order, or None.

    None means the request must go through ``predict`` (the model needs a DataFrame, the
    columns differ from the signature's, or the values are not all numbers).
    """
    if predictor.needs_dataframe or inv.params:
        return None
    columns = predictor.input_columns
    if inv.kind == "rows":
        if columns is not None and inv.columns != columns:
            return None
        return _truncated(_numeric(inv.data, columns is not None), predictor)
    if inv.kind == "records" and columns is not None:
        width = len(columns)
        try:
            rows = [[r[c] for c in columns] for r in inv.data if len(r) == width]
        except KeyError:
            return None
        return _truncated(_numeric(rows, True), predictor) if len(rows) == len(inv.data) else None
    if inv.kind == "frame" and (columns is None or list(inv.data.columns) == columns):
        array = inv.data.to_numpy()
        return _truncated(array, predictor) if array.dtype.kind in "fiub" else None
    if inv.kind == "tensor" and columns is None:
        return _numeric(inv.data, False)
    return None


_INTEGER_COLUMNS: weakref.WeakKeyDictionary[Predictor, list[int]] = weakref.WeakKeyDictionary()


def _integer_columns(predictor: Predictor) -> list[int]:
    """Positions (in ``input_columns`` order) of the signature's integer columns."""
    found = _INTEGER_COLUMNS.get(predictor)
    if found is None:
        schema = getattr(predictor.signature, "inputs", None)
        types = {c.name: c.type for c in schema.columns} if schema is not None else {}
        columns = predictor.input_columns or []
        found = [i for i, c in enumerate(columns) if types.get(c) in ("long", "integer")]
        _INTEGER_COLUMNS[predictor] = found
    return found


_CSV_DTYPES: weakref.WeakKeyDictionary[Predictor, dict[str, str]] = weakref.WeakKeyDictionary()
# The dtypes MLflow's server reads a signature's CSV columns as (schema.pandas_types()); it
# reads datetime columns as text, which enforcement then parses.
_PANDAS_TYPES = {
    "string": "object",
    "binary": "object",
    "boolean": "bool",
    "integer": "int32",
    "long": "int64",
    "float": "float32",
    "double": "float64",
}


def csv_dtypes(predictor: Predictor) -> dict[str, str]:
    """The dtype of each signature column in a CSV body, as MLflow's server reads it.

    A string column keeps ``132`` as text; a long column refuses ``19.5``.
    """
    found = _CSV_DTYPES.get(predictor)
    if found is None:
        schema = getattr(predictor.signature, "inputs", None)
        columns = schema.columns if schema is not None else []
        found = {
            c.name: _PANDAS_TYPES[c.type]
            for c in columns
            if c.name is not None and c.type in _PANDAS_TYPES
        }
        _CSV_DTYPES[predictor] = found
    return found


def _truncated(array: np.ndarray | None, predictor: Predictor) -> np.ndarray | None:
    # MLflow's scoring server casts a table with astype, which truncates 19.5 to 19 in a long
    # column; the array path must give the model the same numbers.
    if array is None or array.ndim != 2 or array.dtype.kind != "f":
        return array
    positions = _integer_columns(predictor)
    if positions and array.shape[1] > max(positions):
        part = array[:, positions]
        if np.isfinite(part).all():
            array[:, positions] = np.trunc(part)
    return array


def _numeric(rows: Any, to_float: bool) -> np.ndarray | None:
    try:
        array = np.asarray(rows, dtype=np.float64 if to_float else None)
    except (ValueError, TypeError):
        return None
    if array.dtype.kind not in "fiub" or array.ndim < 1:
        return None
    return array


def as_data(inv: Invocation, predictor: Predictor | None = None) -> Any:
    """The request in a form ``Predictor.predict`` accepts (a DataFrame only when named rows).

    With a column signature, a table (named rows, records or CSV) is first cast as MLflow's
    scoring server casts it (``cast_request_frame``).
    """
    schema = getattr(predictor.signature, "inputs", None) if predictor is not None else None
    if schema is None or schema.is_tensor or schema.names is None:
        if inv.kind == "rows" and inv.columns is not None:
            return pd.DataFrame(inv.data, columns=inv.columns)
        return inv.data
    if inv.kind == "rows" and inv.columns is not None:
        return cast_request_frame(pd.DataFrame(inv.data, columns=inv.columns), schema)
    if inv.kind == "records" and inv.data:
        return cast_request_frame(pd.DataFrame.from_records(inv.data), schema)
    if inv.kind == "frame":
        return cast_request_frame(inv.data, schema)
    return inv.data


def predict(predictor: Predictor, inv: Invocation, drop_extra: bool = False) -> Any:
    """Predict on one request.

    Columns the signature does not declare are a 400, or dropped as MLflow drops them when
    ``drop_extra`` (``SERVING_EXTRA_COLUMNS=drop``).

    Raises:
        InvalidParameter: the input breaks the model's signature (the message names the column).
        BadRequest: the model raised on the input (the message is the model's).
    """
    array = as_array(inv, predictor)
    if array is not None:
        return guarded(predictor.predict_array, array, None)
    if not drop_extra:
        _reject_extra_columns(inv, predictor)
    return guarded(predictor.predict, as_data(inv, predictor), inv.params)


def _reject_extra_columns(inv: Invocation, predictor: Predictor) -> None:
    schema = getattr(predictor.signature, "inputs", None)
    expected = getattr(schema, "names", None)
    if not expected:
        return
    if inv.kind == "rows":
        given = set(inv.columns or ())
    elif inv.kind == "records":
        given = set().union(*inv.data) if inv.data else set()
    elif inv.kind == "columns":
        given = set(inv.data)
    elif inv.kind == "frame":
        given = {str(c) for c in inv.data.columns}
    else:
        return
    extra = sorted(given.difference(expected))
    if extra:
        raise InvalidParameter(
            f"unexpected input column(s) {', '.join(map(repr, extra))}: the model's signature "
            f"takes {', '.join(expected)}"
        )


def guarded(function: Any, data: Any, params: dict[str, Any] | None) -> Any:
    """Call a predict function; a model's own exception becomes a 400 with its message.

    Raises:
        RegistryError: the predictor's own errors, unchanged.
        BadRequest: any other exception the model raised.
    """
    try:
        return function(data, params=params) if params else function(data)
    except RegistryError:
        raise
    except Exception as err:
        logger.info("model raised on input: %r", err)
        raise BadRequest(
            f"The model could not predict on this input: {type(err).__name__}: {err}"
        ) from None
