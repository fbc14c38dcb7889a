"""Schema enforcement: turn request data into what a model's signature declares, or say why not.

Every check is vectorised (pandas or numpy); a Python loop over rows only runs to name the first
offending value once a check has already failed.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

import numpy as np
import pandas as pd

from registry.errors import InvalidParameter
from registry.models.inputs import densify, is_scalar, is_sparse
from registry.models.schema import NUMERIC_TYPES, ColSpec, ModelSignature, Schema, TensorSpec

_NUMPY_TYPES = {"double": "float64", "float": "float32", "long": "int64", "integer": "int32"}
# Types whose column holds a null as it is (None, NaT), so MLflow lets a null through even in a
# required column; a null in a number or boolean column has no value of its type.
_NULLABLE_TYPES = frozenset({"string", "binary", "datetime"})


def coerce_input(data: Any) -> pd.DataFrame | np.ndarray:
    """Turn any ``PyFuncInput`` into a DataFrame or an array, as a table of rows.

    A Series is one column, a scalar one row of one column, a sparse matrix its dense array;
    a dict is a dict of columns (or one row, when every value is a scalar).

    Raises:
        InvalidParameter: the data has none of those shapes, or a sparse matrix is too large
            to densify.
    """
    if isinstance(data, pd.DataFrame | np.ndarray):
        return data
    if isinstance(data, pd.Series):
        return data.to_frame()
    if is_sparse(data):
        return densify(data)
    if is_scalar(data):
        return pd.DataFrame([data])
    try:
        if isinstance(data, dict):
            if all(np.ndim(v) == 0 for v in data.values()):
                return pd.DataFrame([data])
            return pd.DataFrame(data)
        if isinstance(data, list | tuple) and data:
            if all(isinstance(row, dict) for row in data):
                return pd.DataFrame.from_records(list(data))
            array = np.asarray(data, dtype=object if _ragged_or_mixed(data) else None)
            # numpy turns [[1.5, "a"]] into strings; keep each value's own type instead.
            return array.astype(object) if array.dtype.kind in "US" else array
    except ValueError as exc:
        raise InvalidParameter(f"input cannot be read as a table: {exc}") from exc
    raise InvalidParameter(
        f"unsupported input {type(data).__name__}: expected a pandas DataFrame or Series, a numpy "
        "array, a scipy sparse matrix, a dict of columns, a list of dicts, a list of lists or "
        "one value"
    )


def _ragged_or_mixed(rows: list[Any] | tuple[Any, ...]) -> bool:
    first = rows[0]
    if not isinstance(first, list | tuple):
        return False
    width = len(first)
    return any(not isinstance(r, list | tuple) or len(r) != width for r in rows)


def enforce_schema(data: Any, signature: ModelSignature | Schema | None) -> Any:
    """Check and cast ``data`` against a signature's inputs.

    With a column schema the result is a DataFrame holding exactly the declared columns, in
    order, cast to their declared types (ints into double columns are fine; extra columns are
    dropped). With a tensor schema the result is a numpy array of the declared dtype. Without a
    schema the data is only coerced into a DataFrame or array.

    Raises:
        InvalidParameter: a column is missing, a value has the wrong type, a required column
            holds a null, or the shape, rank or row length is wrong. The message names it.
    """
    schema = signature.inputs if isinstance(signature, ModelSignature) else signature
    if schema is None or not schema.specs:
        return coerce_input(data)
    first = schema.specs[0]
    if isinstance(first, TensorSpec):
        if len(schema.specs) > 1:
            raise InvalidParameter("signatures with several named tensors are not supported")
        if is_sparse(data):
            return enforce_sparse_tensor(data, first)
        return enforce_tensor(coerce_input(data), first)
    if schema.names is None:
        specs = schema.columns
        schema = Schema(tuple(ColSpec(c.type, str(i), c.required) for i, c in enumerate(specs)))
    frame = _as_frame(_rows_as_frame(data, schema), schema)
    check_missing(frame, schema)
    cast = {c.name: cast_column(frame[c.name], c) for c in schema.columns if c.name in frame}
    return pd.DataFrame(cast, index=frame.index)


def _rows_as_frame(data: Any, schema: Schema) -> pd.DataFrame | np.ndarray:
    # A list of rows goes to pandas column by column, so [1.5, True] keeps its bool.
    if not (isinstance(data, list | tuple) and data and isinstance(data[0], list | tuple)):
        return coerce_input(data)
    names = [str(c.name) for c in schema.columns]
    widths = {len(r) if isinstance(r, list | tuple) else -1 for r in data}
    if widths != {len(names)}:
        got = "rows of different lengths" if len(widths) > 1 else f"rows of {widths.pop()} values"
        raise InvalidParameter(
            f"expected rows of {len(names)} values (columns {', '.join(names)}), got {got}"
        )
    return pd.DataFrame(list(data), columns=names)


def _as_frame(data: pd.DataFrame | np.ndarray, schema: Schema) -> pd.DataFrame:
    names = [str(c.name) for c in schema.columns]
    if isinstance(data, pd.DataFrame):
        if names == [str(i) for i in range(len(names))] and list(data.columns) != names:
            if data.shape[1] != len(names):
                raise InvalidParameter(f"expected {len(names)} input columns, got {data.shape[1]}")
            return data.set_axis(names, axis=1)
        return data
    if data.ndim == 1 and len(schema.specs) == 1 and data.dtype != object:
        data = data.reshape(-1, 1)
    if data.ndim != 2 or data.shape[1] != len(schema.specs):
        expected = f"rows of {len(schema.specs)} values (columns {', '.join(names)})"
        got = f"rows of {data.shape[1]} values" if data.ndim == 2 else f"shape {data.shape}"
        if data.dtype == object and data.ndim == 1:
            got = "rows of different lengths"
        raise InvalidParameter(f"expected {expected}, got {got}")
    return pd.DataFrame(data, columns=names)


def check_missing(frame: pd.DataFrame, schema: Schema) -> None:
    """Raise when a required column of ``schema`` is absent from ``frame``.

    Raises:
        InvalidParameter: naming every missing column and its type.
    """
    missing = [c for c in schema.columns if c.required and c.name not in frame.columns]
    if missing:
        listed = ", ".join(f"'{c.name}' ({c.type})" for c in missing)
        raise InvalidParameter(f"model is missing input column(s) {listed}")


def cast_column(col: pd.Series, spec: ColSpec) -> pd.Series:
    """Cast one column to its spec's type, raising a message that names the column.

    Raises:
        InvalidParameter: a value cannot be read as the declared type, or a required column
            holds a null.
    """
    if spec.type in NUMERIC_TYPES:
        out = _cast_numeric(col, spec)
    elif spec.type == "boolean":
        out = _cast_kind(col, spec, pd.api.types.is_bool_dtype, ("boolean",), bool)
    elif spec.type == "string":
        out = _cast_kind(col, spec, pd.api.types.is_string_dtype, ("string", "empty"), None)
    elif spec.type == "binary":
        out = _cast_binary(col, spec)
    elif spec.type == "datetime":
        out = _cast_datetime(col, spec)
    else:
        out = col
    if spec.required and spec.type not in _NULLABLE_TYPES:
        nulls = out.isna().to_numpy()
        if nulls.any():
            row = int(np.argmax(nulls))
            raise InvalidParameter(
                f"column '{spec.name}': is required but row {row} is null (expected {spec.type})"
            )
    return out


def _bad_value(col: pd.Series, spec: ColSpec, bad: np.ndarray) -> InvalidParameter:
    value = col.to_numpy()[int(np.argmax(bad))]
    if isinstance(value, np.generic):
        value = value.item()
    return InvalidParameter(f"column '{spec.name}': expected {spec.type}, got {value!r}")


def _cast_numeric(col: pd.Series, spec: ColSpec) -> pd.Series:
    target = np.dtype(_NUMPY_TYPES[spec.type])
    if pd.api.types.is_bool_dtype(col.dtype):
        raise _bad_value(col, spec, np.ones(len(col), dtype=bool))
    if pd.api.types.is_numeric_dtype(col.dtype):
        values = col
    else:
        values = pd.to_numeric(col, errors="coerce")
        bad = (values.isna() & col.notna()).to_numpy()
        if bad.any():
            raise _bad_value(col, spec, bad)
    if target.kind == "f":
        return values.astype(target)
    array = values.to_numpy(dtype=np.float64, na_value=np.nan)
    finite = ~np.isnan(array)
    fractional = finite & (array != np.floor(array))
    if fractional.any():
        raise _bad_value(col, spec, fractional)
    info = np.iinfo(target)
    out_of_range = finite & ((array < info.min) | (array > info.max))
    if out_of_range.any():
        raise _bad_value(col, spec, out_of_range)
    if not finite.all():
        return pd.Series(array, index=col.index, name=col.name)
    return values.astype(target)


def _cast_kind(
    col: pd.Series,
    spec: ColSpec,
    dtype_ok: Any,
    inferred_ok: tuple[str, ...],
    target: type | None,
) -> pd.Series:
    if dtype_ok(col.dtype):
        return col
    if pd.api.types.infer_dtype(col, skipna=True) in inferred_ok:
        return col if target is None or col.isna().any() else col.astype(target)
    wanted = {"boolean": bool, "string": str, "binary": bytes}[spec.type]
    bad = (col.notna() & ~col.map(lambda v: isinstance(v, wanted))).to_numpy()
    raise _bad_value(col, spec, bad)


def _cast_binary(col: pd.Series, spec: ColSpec) -> pd.Series:
    # JSON cannot carry bytes, so MLflow's scoring protocol sends binary columns as base64.
    if pd.api.types.infer_dtype(col, skipna=True) == "string":
        try:
            return col.map(lambda v: _b64decode(v) if isinstance(v, str) else None)
        except (binascii.Error, ValueError):
            bad = col.map(lambda v: not _is_base64(v)).to_numpy(dtype=bool)
            raise _bad_value(col, spec, bad) from None
    return _cast_kind(col, spec, lambda _: False, ("bytes", "empty"), None)


def _b64decode(value: str) -> bytes:
    # MLflow's NumpyEncoder writes base64.encodebytes: lines of 76 characters, each ending "\n".
    return base64.b64decode("".join(value.split()), validate=True)


def _is_base64(value: object) -> bool:
    try:
        _b64decode(str(value))
    except (binascii.Error, ValueError):
        return False
    return True


def cast_request_frame(frame: pd.DataFrame, schema: Schema) -> pd.DataFrame:
    """Cast a scoring request's table as MLflow's scoring server does before enforcement.

    MLflow's server casts each declared column with ``astype`` first: a number sent to a
    string column is kept as it is in an object column (which string columns accept), and a
    fractional number sent to an integer column is truncated (19.5 -> 19). Everything else is
    left to ``enforce_schema``.
    """
    out = None
    for spec in schema.columns:
        if spec.name is None or spec.name not in frame.columns:
            continue
        col = frame[spec.name]
        if spec.type == "string" and not pd.api.types.is_string_dtype(col.dtype):
            cast = col.astype(object)
        elif spec.type in ("long", "integer") and pd.api.types.is_float_dtype(col.dtype):
            values = col.to_numpy()
            if not np.isfinite(values).all():
                continue
            cast = pd.Series(np.trunc(values), index=col.index, name=col.name)
        else:
            continue
        if out is None:
            out = frame.copy()
        out[spec.name] = cast
    return frame if out is None else out


def _cast_datetime(col: pd.Series, spec: ColSpec) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(col.dtype):
        return col
    values = pd.to_datetime(col, errors="coerce")
    bad = (values.isna() & col.notna()).to_numpy()
    if bad.any():
        raise _bad_value(col, spec, bad)
    return values


def enforce_tensor(data: pd.DataFrame | np.ndarray, spec: TensorSpec) -> np.ndarray:
    """Check an array's rank, fixed dimensions and dtype against a tensor spec.

    Raises:
        InvalidParameter: the rank, a fixed dimension or a value's type does not match.
    """
    array = data.to_numpy() if isinstance(data, pd.DataFrame) else data
    expected = f"a {spec.dtype} tensor of shape {list(spec.shape)}"
    if array.ndim != len(spec.shape):
        raise InvalidParameter(
            f"expected {expected} (rank {len(spec.shape)}), got rank {array.ndim} "
            f"(shape {list(array.shape)})"
        )
    for want, got in zip(spec.shape, array.shape, strict=True):
        if want != -1 and want != got:
            raise InvalidParameter(f"expected {expected}, got shape {list(array.shape)}")
    target = np.dtype(spec.dtype)
    if array.dtype == target:
        return array
    if array.dtype.kind in "OUS" and target.kind in "iuf":
        flat = pd.Series(array.ravel())
        numbers = pd.to_numeric(flat, errors="coerce")
        bad = (numbers.isna() & flat.notna()).to_numpy()
        if bad.any():
            value = flat.to_numpy()[int(np.argmax(bad))]
            raise InvalidParameter(f"expected {expected}, got {value!r}")
        array = numbers.to_numpy().reshape(array.shape)
    if target.kind in "iu" and array.dtype.kind == "f":
        finite = array[np.isfinite(array)]
        if (finite != np.floor(finite)).any() or finite.size != array.size:
            raise InvalidParameter(f"expected {expected}, got non-integral values")
    elif not np.can_cast(array.dtype, target, "same_kind") and not (
        array.dtype.kind in "iu" and target.kind == "f"
    ):
        raise InvalidParameter(f"expected {expected}, got dtype {array.dtype}")
    return array.astype(target)


def enforce_sparse_tensor(data: Any, spec: TensorSpec) -> Any:
    """Check a scipy sparse matrix against a 2-D tensor spec; it stays sparse.

    Integers are cast to a float spec's dtype; anything else must match the spec's dtype.

    Raises:
        InvalidParameter: the spec is not 2-D, a fixed dimension differs, or the dtype does
            not match.
    """
    expected = f"a {spec.dtype} tensor of shape {list(spec.shape)}"
    shape = list(data.shape)
    if len(spec.shape) != 2:
        raise InvalidParameter(
            f"expected {expected} (rank {len(spec.shape)}), got a sparse matrix of shape {shape}"
        )
    if any(want not in (-1, got) for want, got in zip(spec.shape, shape, strict=True)):
        raise InvalidParameter(f"expected {expected}, got shape {shape}")
    target = np.dtype(spec.dtype)
    if data.dtype == target:
        return data
    if (data.dtype.kind in "iub" and target.kind == "f") or np.can_cast(data.dtype, target):
        return data.astype(target)
    raise InvalidParameter(f"expected {expected}, got dtype {data.dtype}")


# What MLflow's params enforcement accepts for each type besides the type itself (a JSON int
# may become a float or double, a JSON float a double); anything else is refused.
_PARAM_TYPES: dict[str, tuple[type, ...]] = {
    "boolean": (bool,),
    "integer": (int,),
    "long": (int,),
    "float": (float, int),
    "double": (float, int),
    "string": (str,),
}
_PARAM_CASTS: dict[str, type] = {"float": float, "double": float}


def enforce_params(
    params: dict[str, Any] | None, declared: list[dict[str, Any]] | None
) -> tuple[dict[str, Any] | None, list[str]]:
    """Validate and cast request params against a signature's params schema, as MLflow does.

    Params the schema does not declare are dropped (all of them when there is no schema);
    declared params missing from the request take their default; an int for a float or double
    param becomes a float.

    Returns:
        The params to pass to the model (None without a schema) and the dropped names.

    Raises:
        InvalidParameter: a declared param has a value of the wrong type or shape.
    """
    given = params or {}
    if not declared:
        return None, sorted(given)
    specs = {str(spec["name"]): spec for spec in declared if "name" in spec}
    dropped = sorted(set(given) - set(specs))
    out = {}
    errors = []
    for name, spec in specs.items():
        if name not in given:
            out[name] = spec.get("default")
            continue
        try:
            out[name] = _param_value(given[name], spec)
        except ValueError as err:
            errors.append(f"param '{name}': {err}")
    if errors:
        raise InvalidParameter(f"Invalid parameters found: {'; '.join(errors)}")
    return out, dropped


def _param_value(value: Any, spec: dict[str, Any]) -> Any:
    kind = str(spec.get("type"))
    if spec.get("shape") is None:
        return _param_scalar(value, kind)
    if not isinstance(value, list) or any(isinstance(v, list | dict) for v in value):
        raise ValueError(f"expected a 1-D list of {kind}, got {value!r}")
    return [_param_scalar(v, kind) for v in value]


def _param_scalar(value: Any, kind: str) -> Any:
    if value is None:
        return None
    if kind == "datetime":
        try:
            moment = np.datetime64(value).item()
        except (ValueError, TypeError) as err:
            raise ValueError(f"cannot read {value!r} as a datetime") from err
        if isinstance(moment, int):
            raise ValueError(f"cannot read {value!r} as a date or datetime")
        return moment
    allowed = _PARAM_TYPES.get(kind)
    if allowed is None:
        return value  # object and other complex types are passed as they are
    if type(value) not in allowed:
        raise ValueError(f"cannot safely convert {type(value).__name__} {value!r} to {kind}")
    cast = _PARAM_CASTS.get(kind)
    return cast(value) if cast is not None else value
