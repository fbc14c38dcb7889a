"""The inputs of MLflow's ``PyFuncInput``, built the same way here and in MLflow's venv.

Both sides import this module, so a prediction compared across the two processes was made on
the same values. ``plain`` turns any prediction into JSON-able lists for that comparison.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse

COLUMNS = ["a", "b", "c"]


def training_data() -> tuple[np.ndarray, np.ndarray]:
    """Forty rows of three features, about half of them zero (as one-hot features are)."""
    rng = np.random.RandomState(0)
    x = rng.rand(40, 3) * (rng.rand(40, 3) > 0.5)
    return x, 2 * x[:, 0] + x[:, 1] - x[:, 2] + 0.5


def inputs() -> dict[str, Any]:
    """One value of every ``PyFuncInput`` type, keyed by the type's name."""
    x = training_data()[0][:5]
    frame = pd.DataFrame(x, columns=COLUMNS)
    return {
        "DataFrame": frame,
        "Series": frame["a"],
        "ndarray": x,
        "csr_matrix": sparse.csr_matrix(x),
        "csc_matrix": sparse.csc_matrix(x),
        "list": x.tolist(),
        "dict": frame.to_dict("list"),
        "datetime": dt.datetime(2024, 1, 2, 3, 4, 5),
        "bool": True,
        "bytes": b"abc",
        "float": 1.5,
        "int": 3,
        "str": "abc",
    }


def plain(value: Any) -> Any:
    """A prediction (or a described input) as JSON-able values."""
    if isinstance(value, pd.DataFrame):
        return {"columns": [str(c) for c in value.columns], "values": plain(value.to_numpy())}
    if isinstance(value, pd.Series | np.ndarray | np.generic):
        return value.tolist()
    if sparse.issparse(value):
        return {"format": value.format, "values": value.toarray().tolist()}
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value
