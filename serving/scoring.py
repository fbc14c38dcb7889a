"""Turn a parsed request into the input the model wants, predict, and translate its errors.

The fast path: a model that takes arrays (``needs_dataframe`` false) gets one numpy array built
straight from the decoded JSON rows, with no DataFrame and no per-column checks beyond the
column names, which are compared once. Everything else goes through ``Predictor.predict``, which
enforces the signature and names the offending column.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from registry.errors import BadRequest, InvalidParameter, RegistryError
from serving.loader import Predictor
from serving.protocols.mlflow import Invocation

logger = logging.getLogger(__name__)


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
        return _numeric(inv.data, columns is not None)
    if inv.kind == "records" and columns is not None:
        width = len(columns)
        try:
            rows = [[r[c] for c in columns] for r in inv.data if len(r) == width]
        except KeyError:
            return None
        return _numeric(rows, True) if len(rows) == len(inv.data) else None
    if inv.kind == "frame" and (columns is None or list(inv.data.columns) == columns):
        array = inv.data.to_numpy()
        return array if array.dtype.kind in "fiub" else None
    if inv.kind == "tensor" and columns is None:
        return _numeric(inv.data, False)
    return None


def _numeric(rows: Any, to_float: bool) -> np.ndarray | None:
    try:
        array = np.asarray(rows, dtype=np.float64 if to_float else None)
    except (ValueError, TypeError):
        return None
    if array.dtype.kind not in "fiub" or array.ndim < 1:
        return None
    return array


def as_data(inv: Invocation) -> Any:
    """The request in a form ``Predictor.predict`` accepts (a DataFrame only when named rows)."""
    if inv.kind == "rows" and inv.columns is not None:
        return pd.DataFrame(inv.data, columns=inv.columns)
    return inv.data


def predict(predictor: Predictor, inv: Invocation) -> Any:
    """Predict on one request.

    Raises:
        InvalidParameter: the input breaks the model's signature (the message names the column).
        BadRequest: the model raised on the input (the message is the model's).
    """
    array = as_array(inv, predictor)
    if array is not None:
        return guarded(predictor.predict_array, array, None)
    _reject_extra_columns(inv, predictor)
    return guarded(predictor.predict, as_data(inv), inv.params)


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
