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


def dataset_input(
    data: Any,
    name: str = "dataset",
    context: str | None = None,
    source: str | None = None,
    tags: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A wire ``DatasetInput`` for a DataFrame or array: name, digest, schema and profile."""
    frame = _frame(data)
    hashed = pd.util.hash_pandas_object(frame.head(10000), index=False).to_numpy()
    digest = hashlib.sha256(hashed.tobytes() + str(frame.shape).encode()).hexdigest()[:8]
    schema = {"mlflow_colspec": [{"name": str(c), "type": str(t)} for c, t in frame.dtypes.items()]}
    dataset = {
        "name": name,
        "digest": digest,
        "source_type": "code",
        "source": json.dumps({"tags": {"source": source or "code"}}),
        "schema": json.dumps(schema),
        "profile": json.dumps({"num_rows": len(frame), "num_elements": int(frame.size)}),
    }
    all_tags = dict(tags or {})
    if context:
        all_tags["mlflow.data.context"] = context
    return {"tags": [{"key": k, "value": v} for k, v in all_tags.items()], "dataset": dataset}
