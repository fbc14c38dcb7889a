"""``search_runs`` as a pandas DataFrame shaped like MLflow's."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from registry.entities import Run

BASE_COLUMNS = ["run_id", "experiment_id", "status", "artifact_uri", "start_time", "end_time"]


def runs_to_frame(runs: Sequence[Run]) -> pd.DataFrame:
    """One row per run: the info columns, then ``metrics.*``, ``params.*`` and ``tags.*``.

    Times are UTC datetimes; a missing metric is NaN and a missing param or tag is None.
    """
    rows = []
    for run in runs:
        row: dict[str, object] = {
            "run_id": run.info.run_id,
            "experiment_id": run.info.experiment_id,
            "status": run.info.status,
            "artifact_uri": run.info.artifact_uri,
            "start_time": run.info.start_time,
            "end_time": run.info.end_time,
        }
        row.update({f"metrics.{k}": v for k, v in run.data.metrics.items()})
        row.update({f"params.{k}": v for k, v in run.data.params.items()})
        row.update({f"tags.{k}": v for k, v in run.data.tags.items()})
        rows.append(row)
    keys = sorted({k for row in rows for k in row if k not in BASE_COLUMNS})
    metrics = [k for k in keys if k.startswith("metrics.")]
    others = [k for k in keys if not k.startswith("metrics.")]
    frame = pd.DataFrame(rows, columns=BASE_COLUMNS + metrics + others)
    for column in ("start_time", "end_time"):
        frame[column] = pd.to_datetime(frame[column], unit="ms", utc=True)
    for column in metrics:
        frame[column] = frame[column].astype("float64")
    for column in others:
        frame[column] = frame[column].astype(object).where(frame[column].notna(), None)
    return frame
