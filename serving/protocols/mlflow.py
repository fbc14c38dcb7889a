"""MLflow's scoring protocol: ``/invocations`` request formats and the predictions body.

A body decodes into one ``ModelInput`` of plain Python lists and dicts (or a DataFrame for
CSV): deciding whether the model gets a numpy array or a DataFrame is the Predictor's job.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

import pandas as pd

from registry.errors import BadRequest, UnsupportedMediaType
from registry.models.model_input import ModelInput
from serving.protocols import jsoncodec
from serving.protocols.limits import check_rows

CONTENT_TYPE_JSON = "application/json"
CONTENT_TYPE_CSV = "text/csv"
CONTENT_TYPES = [CONTENT_TYPE_CSV, CONTENT_TYPE_JSON]
SUPPORTED_FORMATS = "{'instances', 'dataframe_split', 'inputs', 'dataframe_records'}"
_FORMAT_KEYS = frozenset({"instances", "dataframe_split", "inputs", "dataframe_records"})
REQUIRED_INPUT_FORMAT = (
    f"The input must be a JSON dictionary with exactly one of the input fields {SUPPORTED_FORMATS}"
)
SCORING_PROTOCOL_CHANGE_INFO = (
    "IMPORTANT: The MLflow Model scoring protocol has changed in MLflow version 2.0. If you are"
    " seeing this error, you are likely using an outdated scoring request format. To resolve the"
    " error, either update your request format or adjust your MLflow Model's requirements file to"
    " specify an older version of MLflow (for example, change the 'mlflow' requirement specifier"
    " to 'mlflow==1.30.0'). If you are making a request using the MLflow client"
    " (e.g. via `mlflow.pyfunc.spark_udf()`), upgrade your MLflow client to a version >= 2.0 in"
    " order to use the new request format. For more information about the updated MLflow"
    " Model scoring protocol in MLflow 2.0, see"
    " https://mlflow.org/docs/latest/models.html#deploy-mlflow-models."
)

# MLflow's unified LLM bodies (chat, completions, embeddings) are passed to the model as a dict.
LLM_KEYS = frozenset({"messages", "prompt", "input"})


def media_type(content_type: str | None) -> str:
    """The bare media type of a Content-Type header, checked against what we read.

    Raises:
        UnsupportedMediaType: the type is missing or not JSON or CSV, or the charset is not UTF-8.
    """
    mime, _, parameters = (content_type or "").partition(";")
    mime = mime.strip().lower()
    # MLflow reads only charset; any other parameter is a 415, before the type is looked at.
    values = dict(pair.strip().partition("=")[::2] for pair in parameters.split(";") if pair)
    if values.get("charset", "utf-8").strip('"').lower() != "utf-8":
        raise UnsupportedMediaType("The scoring server only supports UTF-8")
    unexpected = [key for key in values if key != "charset"]
    if unexpected:
        raise UnsupportedMediaType(
            f"Unrecognized content type parameters: {', '.join(unexpected)}. "
            f"{SCORING_PROTOCOL_CHANGE_INFO}"
        )
    if mime not in CONTENT_TYPES:
        raise UnsupportedMediaType(
            "This predictor only supports the following content types:"
            f" Types: {CONTENT_TYPES}. Got '{content_type or ''}'."
        )
    return mime


def parse_invocation(
    body: bytes,
    content_type: str | None,
    max_rows: int | None = None,
    csv_dtypes: Mapping[str, str] | None = None,
) -> ModelInput:
    """Parse an ``/invocations`` body of the given Content-Type.

    Args:
        body: the request body.
        content_type: its Content-Type header.
        max_rows: refuse more rows than this, before any array or DataFrame is built (None or
            0: no cap).
        csv_dtypes: the dtype to read each CSV column as, as MLflow reads a signature's
            columns (``132`` in a string column stays ``"132"``).

    Raises:
        UnsupportedMediaType: the content type is not JSON or CSV.
        BadRequest: the body is malformed, not one of the protocol's shapes, or has more rows
            than ``max_rows``.
    """
    if media_type(content_type) == CONTENT_TYPE_CSV:
        frame = parse_csv(body, max_rows, csv_dtypes)
        check_rows(len(frame), max_rows, counted_all=False)
        return ModelInput("frame", frame)
    try:
        document = jsoncodec.loads(body)
    except jsoncodec.JSONDecodeError as err:
        raise BadRequest(
            f"Invalid input. Ensure that input is a valid JSON formatted string. Error: '{err!r}'"
        ) from None
    invocation = parse_document(document)
    check_rows(invocation.row_count, max_rows)
    return invocation


def parse_csv(
    body: bytes, max_rows: int | None = None, dtypes: Mapping[str, str] | None = None
) -> pd.DataFrame:
    """Read a CSV body (a header row, then rows) into a DataFrame.

    With ``max_rows``, reading stops one row past it, so an oversized body is never read whole.
    ``dtypes`` maps column names to the dtype to read them as.

    Raises:
        BadRequest: the body is empty, not UTF-8 or not CSV.
    """
    rows = max_rows + 1 if max_rows else None
    try:
        return pd.read_csv(io.BytesIO(body), encoding="utf-8", nrows=rows, dtype=dtypes or None)
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as err:
        raise BadRequest(f"Invalid input. The body is not valid CSV. Error: '{err}'") from None


def parse_document(document: Any) -> ModelInput:
    """Turn a decoded JSON document into a ModelInput.

    Raises:
        BadRequest: the document is not a dict with exactly one input field, or its payload
            does not have the shape that field requires.
    """
    if isinstance(document, list):
        raise BadRequest(f"{REQUIRED_INPUT_FORMAT}. Received a list.")
    if not isinstance(document, dict):
        raise BadRequest(
            f"{REQUIRED_INPUT_FORMAT}. Received unexpected input type '{type(document)}."
        )
    if not LLM_KEYS.isdisjoint(document):
        return ModelInput("llm", document)
    keys = _FORMAT_KEYS.intersection(document)
    if len(keys) != 1:
        received = [key for key in document if key != "params"]
        raise BadRequest(
            f"{REQUIRED_INPUT_FORMAT}. Received dictionary with input fields: {received}. "
            f"{SCORING_PROTOCOL_CHANGE_INFO}"
        )
    params = document.get("params")
    if params is not None and not isinstance(params, dict):
        raise BadRequest("Invalid input. 'params' must be a JSON object.")
    (key,) = keys
    payload = document[key]
    if key == "dataframe_split":
        return _split(payload, params)
    if key == "dataframe_records":
        if not _is_records(payload):
            raise BadRequest(
                "Invalid input. Provided dataframe_records field is not a valid dataframe "
                "representation in 'records' format: expected a list of objects."
            )
        return ModelInput("records", payload, params=params)
    return _tensor_input(key, payload, params)


def _split(payload: Any, params: dict[str, Any] | None) -> ModelInput:
    def invalid(error: str) -> BadRequest:
        return BadRequest(
            "Invalid input. Provided dataframe_split field is not a valid dataframe "
            f"representation in 'split' format. Error: '{error}'"
        )

    if not isinstance(payload, dict) or not isinstance(payload.get("data"), list):
        raise invalid("expected an object with 'columns' and 'data' (a list of rows)")
    extra = set(payload).difference(_SPLIT_KEYS)
    if extra:
        raise BadRequest(
            "Invalid input. Dataframe split format must have 'data' field and optionally "
            f"'columns' and 'index' fields. Got {sorted(payload)}."
        )
    rows = payload["data"]
    columns = _column_names(payload.get("columns"), invalid)
    if rows and not isinstance(rows[0], list):
        rows = [[value] for value in rows] if columns is None or len(columns) == 1 else None
        if rows is None:
            raise invalid("'data' must be a list of rows")
    if set(map(type, rows)) - {list}:
        raise invalid("'data' must be a list of rows")
    width = len(columns) if columns is not None else len(rows[0]) if rows else 0
    lengths = set(map(len, rows))
    if lengths - {width}:
        found = next(iter(lengths - {width}))
        raise invalid(f"{width} columns passed, passed data had {found} columns")
    index = payload.get("index")
    if index is not None and (not isinstance(index, list) or len(index) != len(rows)):
        given = len(index) if isinstance(index, list) else type(index).__name__
        raise invalid(f"Shape of passed values is ({len(rows)}, {width}), indices imply {given}")
    return ModelInput("rows", rows, columns=columns, params=params)


_SPLIT_KEYS = frozenset({"columns", "data", "index"})


def _column_names(columns: Any, invalid: Any) -> list[str] | None:
    # pandas takes any scalar as a column name, and MLflow's clients send integer ones
    # (``pd.DataFrame(X).to_dict("split")``); signatures name columns by their string form.
    if columns is None:
        return None
    if not isinstance(columns, list) or not all(
        isinstance(c, str | int | float | bool) for c in columns
    ):
        raise invalid("'columns' must be a list of column names")
    return [c if isinstance(c, str) else str(c) for c in columns]


def _tensor_input(key: str, payload: Any, params: dict[str, Any] | None) -> ModelInput:
    if isinstance(payload, dict):
        return ModelInput("columns", payload, params=params)
    if _is_records(payload) and payload:
        return ModelInput("records", payload, params=params)
    if isinstance(payload, list):
        return ModelInput("tensor", payload, params=params)
    raise BadRequest(
        f"Invalid input. '{key}' must be a list of rows, a list of objects or an object of "
        f"columns; got {type(payload).__name__}."
    )


def _is_records(payload: Any) -> bool:
    return isinstance(payload, list) and all(isinstance(row, dict) for row in payload)


def predictions_body(predictions: Any, wrapped: bool = True) -> bytes:
    """The ``{"predictions": ...}`` body MLflow returns for a model's output.

    ``wrapped`` False gives the output alone, as MLflow answers an LLM-style body.
    """
    if isinstance(predictions, pd.DataFrame):
        predictions = predictions.to_dict(orient="records")
    elif isinstance(predictions, pd.Series):
        predictions = predictions.to_frame().to_dict(orient="records")
    return jsoncodec.dumps({"predictions": predictions} if wrapped else predictions)
