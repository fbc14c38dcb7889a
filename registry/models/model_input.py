"""``ModelInput``: one serving request, decoded once, and how a Predictor reads it.

A protocol (MLflow's ``/invocations``, Open Inference V2) decodes its body into one
``ModelInput`` and stops there: it never decides between numpy and pandas. The Predictor does,
with the functions below: ``as_array`` gives the one float array of the fast path when the
model and the request allow it, ``as_data`` the table or value ``Predictor.predict`` enforces
the signature on.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Literal

import numpy as np
import pandas as pd

from registry.errors import InvalidParameter
from registry.models.enforcement import cast_request_frame
from registry.models.schema import Schema

Kind = Literal["rows", "records", "columns", "tensor", "tensors", "frame", "llm"]


@dataclasses.dataclass(frozen=True, slots=True)
class ModelInput:
    """A decoded request, in the shape its protocol gave it.

    Attributes:
        kind: ``rows`` (``columns`` + list of rows), ``records`` (list of dicts), ``columns``
            (dict of column lists), ``tensor`` (nested lists), ``tensors`` (V2: a dict of named
            numpy arrays), ``frame`` (a DataFrame, CSV) or ``llm`` (a chat, completions or
            embeddings body, given to the model as a dict).
        data: the payload in the shape ``kind`` names.
        columns: column names for ``rows`` (None when the request gave none).
        params: the params for ``predict(params=)``, or None.
    """

    kind: Kind
    data: Any
    columns: list[str] | None = None
    params: dict[str, Any] | None = None

    @property
    def row_count(self) -> int:
        """Number of rows (or entries along the first axis) in the request."""
        if self.kind == "llm":
            return 1
        if self.kind == "tensors":
            return max((t.shape[0] if t.ndim else 1 for t in self.data.values()), default=0)
        if self.kind == "columns":
            return max(
                (len(v) if isinstance(v, list) else 1 for v in self.data.values()), default=0
            )
        return len(self.data)

    def with_params(self, params: dict[str, Any] | None) -> ModelInput:
        """This input with other params (None when empty)."""
        return dataclasses.replace(self, params=params or None)


def whole_tensor(inp: ModelInput, columns: list[str] | None) -> np.ndarray | None:
    """A ``tensors`` input's one numeric tensor when it is the whole model input, or None.

    It is not when the request has several tensors, when its name is one of the model's
    ``columns``, or when its rank or width does not fit them.
    """
    if inp.kind != "tensors" or len(inp.data) != 1:
        return None
    name, tensor = next(iter(inp.data.items()))
    if columns is not None and (name in columns or tensor.ndim != 2):
        return None
    if columns is not None and tensor.shape[1] != len(columns):
        return None
    return tensor if tensor.dtype.kind in "fiub" else None


def from_tensors(inp: ModelInput, columns: list[str] | None) -> ModelInput:
    """A ``tensors`` input as plain rows, a tensor or named columns (``columns``: the model's).

    One tensor is the whole input (a 2-D one of the model's width is its rows, in ``columns``
    order), unless it is named after a column; several tensors are named columns.
    """
    if inp.kind != "tensors":
        return inp
    if len(inp.data) == 1:
        name, tensor = next(iter(inp.data.items()))
        if columns is None or name not in columns:
            if tensor.ndim == 2 and columns is not None and tensor.shape[1] == len(columns):
                return ModelInput("rows", tensor.tolist(), columns=columns, params=inp.params)
            return ModelInput("tensor", tensor.tolist(), params=inp.params)
    data = {name: tensor.reshape(-1).tolist() for name, tensor in inp.data.items()}
    return ModelInput("columns", data, params=inp.params)


def as_array(
    inp: ModelInput, columns: list[str] | None, integer_columns: list[int]
) -> np.ndarray | None:
    """The input as one 2-D numeric array in ``columns`` order (the model's), or None.

    None means the input needs the full path: its columns differ from the model's, or its
    values are not all numbers. ``integer_columns`` are the positions of long and integer
    columns, whose fractions are truncated as MLflow's scoring server truncates them.
    """
    if inp.kind == "rows":
        if columns is not None and inp.columns != columns:
            return None
        return _truncated(_numeric(inp.data, columns is not None), integer_columns)
    if inp.kind == "records" and columns is not None:
        width = len(columns)
        try:
            rows = [[r[c] for c in columns] for r in inp.data if len(r) == width]
        except KeyError:
            return None
        if len(rows) != len(inp.data):
            return None
        return _truncated(_numeric(rows, True), integer_columns)
    if inp.kind == "columns" and columns is not None:
        return _stacked(inp.data, columns)
    if inp.kind == "frame" and (columns is None or list(inp.data.columns) == columns):
        array = inp.data.to_numpy()
        return _truncated(array, integer_columns) if array.dtype.kind in "fiub" else None
    if inp.kind == "tensor" and columns is None:
        return _numeric(inp.data, False)
    return None


def _stacked(data: dict[str, Any], columns: list[str]) -> np.ndarray | None:
    # One named column each (V2's pandas codec, MLflow's ``{"inputs": {name: [...]}}``), in
    # any order: stacked in the model's order. Anything but exactly the model's columns, each
    # a list of numbers of one length, takes the full path (which names what is wrong). Not
    # truncated: the full path gives a dict of columns to the model as it is.
    if len(data) != len(columns):
        return None
    stacked = []
    for name in columns:
        values = data.get(name)
        if not isinstance(values, list) or not values:
            return None
        array = _numeric(values, False)
        if array is None or array.ndim != 1 or array.dtype.kind == "b":
            return None
        stacked.append(array)
    if len({len(a) for a in stacked}) != 1:
        return None
    return np.column_stack(stacked).astype(np.float64, copy=False)


def integer_positions(schema: Schema | None, columns: list[str] | None) -> list[int]:
    """Positions (in ``columns`` order) of the schema's long and integer columns."""
    types = {c.name: c.type for c in schema.columns} if schema is not None else {}
    return [i for i, c in enumerate(columns or []) if types.get(c) in ("long", "integer")]


def _truncated(array: np.ndarray | None, positions: list[int]) -> np.ndarray | None:
    # MLflow's scoring server casts a table with astype, which truncates 19.5 to 19 in a long
    # column; the array path must give the model the same numbers.
    if array is None or array.ndim != 2 or array.dtype.kind != "f":
        return array
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


def as_data(inp: ModelInput, schema: Schema | None) -> Any:
    """The input in a form ``Predictor.predict`` accepts (a DataFrame only when named rows).

    With a column schema, a table (named rows, records or CSV) is first cast as MLflow's
    scoring server casts it (``cast_request_frame``).
    """
    if schema is None or schema.is_tensor or schema.names is None:
        if inp.kind == "rows" and inp.columns is not None:
            return pd.DataFrame(inp.data, columns=inp.columns)
        return inp.data
    if inp.kind == "rows" and inp.columns is not None:
        return cast_request_frame(pd.DataFrame(inp.data, columns=inp.columns), schema)
    if inp.kind == "records" and inp.data:
        return cast_request_frame(pd.DataFrame.from_records(inp.data), schema)
    if inp.kind == "frame":
        return cast_request_frame(inp.data, schema)
    return inp.data


def reject_extra_columns(inp: ModelInput, schema: Schema | None) -> None:
    """Refuse an input with columns the schema does not declare.

    Raises:
        InvalidParameter: the message names the extra columns and the declared ones.
    """
    expected = getattr(schema, "names", None)
    if not expected:
        return
    if inp.kind == "rows":
        given = set(inp.columns or ())
    elif inp.kind == "records":
        given = set().union(*inp.data) if inp.data else set()
    elif inp.kind == "columns":
        given = set(inp.data)
    elif inp.kind == "frame":
        given = {str(c) for c in inp.data.columns}
    else:
        return
    extra = sorted(given.difference(expected))
    if extra:
        raise InvalidParameter(
            f"unexpected input column(s) {', '.join(map(repr, extra))}: the model's signature "
            f"takes {', '.join(expected)}"
        )


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


def csv_dtypes(schema: Schema | None) -> dict[str, str]:
    """The dtype of each schema column in a CSV body, as MLflow's server reads it.

    A string column keeps ``132`` as text; a long column refuses ``19.5``.
    """
    columns = schema.columns if schema is not None else []
    return {
        c.name: _PANDAS_TYPES[c.type]
        for c in columns
        if c.name is not None and c.type in _PANDAS_TYPES
    }
