"""Input examples: ``input_example.json`` and ``serving_input_example.json`` as MLflow writes them.

A DataFrame (or a dict of columns, or a list of dicts) is stored in pandas' split orient,
``{"columns": [...], "data": [[...]]}``, and its serving body is ``{"dataframe_split": ...}``.
A numpy array is stored as ``{"inputs": [...]}``, which is also its serving body. A scipy
CSR/CSC matrix is stored as ``{"data", "indices", "indptr", "shape"}`` and served dense.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from registry.errors import InvalidParameter
from registry.models.inputs import is_sparse

EXAMPLE_FILE = "input_example.json"
SERVING_EXAMPLE_FILE = "serving_input_example.json"


def example_as_data(example: Any) -> Any:
    """Normalise an input example to a DataFrame, an array or a CSR/CSC sparse matrix.

    Raises:
        InvalidParameter: the example is of another kind.
    """
    if isinstance(example, pd.DataFrame | np.ndarray):
        return example
    if is_sparse(example):
        return example if example.format in ("csr", "csc") else example.tocsr()
    if isinstance(example, pd.Series):
        return example.to_frame()
    if isinstance(example, dict):
        scalar = all(np.ndim(v) == 0 for v in example.values())
        return pd.DataFrame([example]) if scalar else pd.DataFrame(example)
    if isinstance(example, list) and example and all(isinstance(r, dict) for r in example):
        return pd.DataFrame.from_records(example)
    if isinstance(example, list):
        return np.asarray(example)
    raise InvalidParameter(
        f"unsupported input_example {type(example).__name__}: expected a pandas DataFrame, "
        "a numpy array, a scipy sparse matrix, a dict of columns or a list of dicts"
    )


def save_input_example(model_dir: Path, example: Any) -> dict[str, Any]:
    """Write both example files and return the ``saved_input_example_info`` block.

    ``example`` is what ``example_as_data`` returned.
    """
    body: dict[str, Any]
    serving: dict[str, Any]
    if is_sparse(example):
        body = {
            "data": example.data.tolist(),
            "indices": example.indices.tolist(),
            "indptr": example.indptr.tolist(),
            "shape": list(example.shape),
        }
        serving = {"inputs": example.toarray().tolist()}
        info = {"type": f"sparse_matrix_{example.format}"}
    elif isinstance(example, pd.DataFrame):
        split = json.loads(example.to_json(orient="split", index=False, date_format="iso"))
        body = {"columns": split["columns"], "data": split["data"]}
        serving = {"dataframe_split": body}
        info = {"pandas_orient": "split", "type": "dataframe"}
    else:
        body = {"inputs": example.tolist()}
        serving = body
        info = {"format": "tf-serving", "type": "ndarray"}
    (model_dir / EXAMPLE_FILE).write_text(json.dumps(body), encoding="utf-8")
    (model_dir / SERVING_EXAMPLE_FILE).write_text(json.dumps(serving, indent=2), encoding="utf-8")
    return {"artifact_path": EXAMPLE_FILE, "serving_input_path": SERVING_EXAMPLE_FILE, **info}


def load_input_example(model_dir: str | Path, info: dict[str, Any] | None) -> Any:
    """Read the saved example back as a DataFrame, array or sparse matrix (None if there is none).

    Raises:
        InvalidParameter: the example file is missing or malformed.
    """
    if not info:
        return None
    file = Path(model_dir) / str(info.get("artifact_path", EXAMPLE_FILE))
    try:
        body = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InvalidParameter(f"cannot read input example {file}: {exc}") from exc
    if info.get("type") == "dataframe":
        return pd.DataFrame(body["data"], columns=body["columns"])
    if info.get("type") in ("sparse_matrix_csr", "sparse_matrix_csc"):
        from scipy import sparse

        kind = sparse.csr_matrix if info["type"] == "sparse_matrix_csr" else sparse.csc_matrix
        return kind((body["data"], body["indices"], body["indptr"]), shape=tuple(body["shape"]))
    return np.asarray(body["inputs"] if isinstance(body, dict) else body)
