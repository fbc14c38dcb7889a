"""Describe a training or evaluation dataset for ``runs/log-inputs`` (MLflow's DatasetInput)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import numpy as np
import pandas as pd


def _frame(data: Any) -> pd.DataFrame:
    if isinstance(data, pd.DataFrame):
        return data
    array = np.asarray(data)
    if array.ndim == 1:
        array = array.reshape(-1, 1)
    return pd.DataFrame(array.reshape(array.shape[0], -1))


def _sparse_dataset(data: Any) -> tuple[str, dict[str, Any], dict[str, int]]:
    """Digest, schema and profile of a scipy sparse matrix, without densifying it."""
    csr = data.tocsr()
    digest = hashlib.sha256()
    for part in (csr.data, csr.indices, csr.indptr):
        digest.update(np.ascontiguousarray(part).tobytes())
    digest.update(str(csr.shape).encode())
    schema = {"mlflow_tensorspec": {"dtype": str(csr.dtype), "shape": [-1, int(csr.shape[1])]}}
    rows, cols = (int(n) for n in csr.shape)
    return digest.hexdigest()[:8], schema, {"num_rows": rows, "num_elements": rows * cols}


def dataset_input(
    data: Any,
    name: str = "dataset",
    context: str | None = None,
    source: str | None = None,
    tags: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A wire ``DatasetInput`` for a DataFrame or array: name, digest, schema and profile."""
    schema: dict[str, Any]
    if hasattr(data, "tocsr") and hasattr(data, "nnz"):
        digest, schema, profile = _sparse_dataset(data)
    else:
        frame = _frame(data)
        hashed = pd.util.hash_pandas_object(frame.head(10000), index=False).to_numpy()
        digest = hashlib.sha256(hashed.tobytes() + str(frame.shape).encode()).hexdigest()[:8]
        schema = {
            "mlflow_colspec": [{"name": str(c), "type": str(t)} for c, t in frame.dtypes.items()]
        }
        profile = {"num_rows": len(frame), "num_elements": int(frame.size)}
    dataset = {
        "name": name,
        "digest": digest,
        "source_type": "code",
        "source": json.dumps({"tags": {"source": source or "code"}}),
        "schema": json.dumps(schema),
        "profile": json.dumps(profile),
    }
    all_tags = dict(tags or {})
    if context:
        all_tags["mlflow.data.context"] = context
    return {"tags": [{"key": k, "value": v} for k, v in all_tags.items()], "dataset": dataset}
