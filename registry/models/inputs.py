"""What ``Predictor.predict`` accepts: every type of MLflow's ``PyFuncInput``.

That is a DataFrame, a Series, an ndarray, a scipy CSR/CSC matrix, a list, a dict, or one
scalar (datetime, bool, bytes, float, int, str). scipy is never imported here: a sparse matrix
can only exist once its caller has imported ``scipy.sparse``.
"""

from __future__ import annotations

import datetime as dt
import sys
from typing import Any

import numpy as np

from registry.errors import InvalidParameter

MAX_DENSE_CELLS = 10_000_000
"""The largest sparse matrix (rows x columns) densified for a model with a column signature."""

_SCALARS = (dt.datetime, bool, bytes, float, int, str, np.generic)


def is_sparse(data: Any) -> bool:
    """True for a scipy sparse matrix or array (CSR, CSC or any other format)."""
    module = sys.modules.get("scipy.sparse")
    return module is not None and bool(module.issparse(data))


def is_scalar(data: Any) -> bool:
    """True for one value of the scalar types in ``PyFuncInput`` (and numpy scalars)."""
    return isinstance(data, _SCALARS)


def densify(data: Any) -> np.ndarray:
    """Return a sparse matrix as a dense 2-D array, refusing one too large for memory.

    Raises:
        InvalidParameter: the matrix has more than ``MAX_DENSE_CELLS`` cells.
    """
    rows, columns = data.shape
    if rows * columns > MAX_DENSE_CELLS:
        raise InvalidParameter(
            f"a {rows}x{columns} sparse matrix is too large to densify for this model's column "
            f"signature (over {MAX_DENSE_CELLS:,} cells); pass a DataFrame, or fewer rows per call"
        )
    return np.asarray(data.toarray())
