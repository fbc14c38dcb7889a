"""The in-memory side of a loaded model: how a flavor calls its model."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from registry.models.mlmodel import inside

Params = dict[str, Any] | None


@dataclass(frozen=True)
class Runtime:
    """A loaded model and the two ways to call it.

    ``predict`` takes what schema enforcement produced (a DataFrame, an array or a sparse
    matrix) or, for a model without a signature, any other ``PyFuncInput`` as the caller gave it.
    ``predict_array``, when the flavor has one, takes a 2-D float64 array whose columns are
    in ``feature_names`` order (or in signature order when the model records no names).
    """

    model: Any
    predict: Callable[[Any, Params], Any]
    predict_array: Callable[[np.ndarray], Any] | None = None
    feature_names: list[str] | None = None
    needs_dataframe: bool = True


def add_code_dir(model_dir: Path, python_function: dict[str, Any] | None) -> None:
    """Put the model's ``code`` directory on ``sys.path``, as MLflow does before unpickling.

    Raises:
        InvalidParameter: the directory named by ``code`` escapes ``model_dir``.
    """
    code = (python_function or {}).get("code")
    if code:
        code_dir = str(inside(model_dir, str(code)))
        if code_dir not in sys.path:
            sys.path.insert(0, code_dir)
