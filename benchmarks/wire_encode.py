"""On-demand benchmark of the response encoder against the old hand-built dict code.

    python -m benchmarks.wire_encode [--items 1000] [--repeat 31]

Encodes a ``runs/search`` page of N in-memory run records (3 latest metrics, a param, 2 tags,
2 datasets, a model input and a model output each) the way the server does
(``registry.store.api_reads.run_json``), and with a copy of the hand-built ``dump_run`` the
wire package replaced (the baseline). Checks both give the same JSON, byte for byte, then
prints the median of ``--repeat`` timed passes of each, taken in turns, and their ratio.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from typing import Any

from registry.store.api_reads import run_json
from registry.store.datasets import dataset_input_tags
from registry.store.metrics import VALUE_NAN, logged_value
from registry.store.models import Metric, Run
from registry.store.run_rows import (
    DatasetInputRow,
    KeyValueRow,
    LatestMetricRow,
    ModelInputRow,
    ModelOutputRow,
)
from registry.store.runs import RunRecord
from registry.wire.fields import double_to_json

JSON = dict[str, Any]


def records(count: int) -> list[RunRecord]:
    """``count`` run records as the store returns them for a page of ``runs/search``."""
    found = []
    for index in range(count):
        run_id = f"{index:032x}"
        run = Run(
            run_uuid=run_id,
            experiment=7,
            name=f"run-{index}",
            user_id="alice",
            status="FINISHED",
            start_time=1_700_000_000_000 + index,
            end_time=1_700_000_100_000 + index if index % 2 else None,
            lifecycle_stage="active",
            artifact_uri=f"file:///artifacts/7/{run_id}/artifacts",
        )
        metrics = [
            LatestMetricRow(run_id, "loss", 0.25 + index, 0, 1_700_000_000_500, 10),
            LatestMetricRow(run_id, "acc", 0.0, VALUE_NAN, 1_700_000_000_500, 10),
            LatestMetricRow(run_id, "rmse", 1.5, 0, 1_700_000_000_600, 3),
        ]
        tags = [KeyValueRow(run_id, "mlflow.user", "alice"), KeyValueRow(run_id, "team", "ml")]
        datasets = [
            DatasetInputRow(
                run_id, "train", "abc123", "local", "/data/train.csv", '{"x": 1}', None, "[]"
            ),
            DatasetInputRow(
                run_id,
                "eval",
                "def456",
                "local",
                "/data/eval.csv",
                None,
                '{"rows": 10}',
                json.dumps([{"key": "mlflow.data.context", "value": "eval"}]),
            ),
        ]
        found.append(
            RunRecord(
                run=run,
                params=[KeyValueRow(run_id, "alpha", "0.1")],
                tags=tags,
                metrics=metrics,
                dataset_inputs=datasets,
                model_inputs=[ModelInputRow(run_id, f"m-{index}")],
                model_outputs=[ModelOutputRow(run_id, f"m-{index}", 2)],
            )
        )
    return found


# --- baseline: the hand-built dump_run of registry/schemas/tracking.py before the wire package --


def _pairs(rows: Any) -> list[dict[str, str]]:
    return [{"key": row.key, "value": row.value} for row in rows]


def _dump_run_info(run: Run) -> JSON:
    info: JSON = {
        "run_id": run.run_uuid,
        "run_uuid": run.run_uuid,
        "run_name": run.name,
        "experiment_id": str(run.experiment_id),
        "user_id": run.user_id,
        "status": run.status,
        "start_time": run.start_time,
        "artifact_uri": run.artifact_uri,
        "lifecycle_stage": run.lifecycle_stage,
    }
    if run.start_time is None:
        del info["start_time"]
    if run.end_time is not None:
        info["end_time"] = run.end_time
    return info


def _dump_metric(metric: Any, run_id: str | None = None) -> JSON:
    body: JSON = {
        "key": metric.key,
        "value": double_to_json(logged_value(metric.value, metric.value_kind)),
        "timestamp": metric.timestamp,
        "step": metric.step,
    }
    if isinstance(metric, Metric):
        for name in ("dataset_name", "dataset_digest", "model_id"):
            if getattr(metric, name):
                body[name] = getattr(metric, name)
    if run_id is not None:
        body["run_id"] = run_id
    return body


def _dump_dataset_input(row: Any) -> JSON:
    dataset: JSON = {
        "name": row.name,
        "digest": row.digest,
        "source_type": row.source_type,
        "source": row.source,
    }
    if row.schema:
        dataset["schema"] = row.schema
    if row.profile:
        dataset["profile"] = row.profile
    body: JSON = {"dataset": dataset}
    tags = dataset_input_tags(row)
    if tags:
        body["tags"] = tags
    return body


def baseline_run(record: RunRecord) -> JSON:
    """The old hand-built ``dump_run``."""
    data: JSON = {}
    if record.metrics:
        data["metrics"] = [_dump_metric(m) for m in record.metrics]
    if record.params:
        data["params"] = _pairs(record.params)
    if record.tags:
        data["tags"] = _pairs(record.tags)
    inputs: JSON = {}
    if record.dataset_inputs:
        inputs["dataset_inputs"] = [_dump_dataset_input(row) for row in record.dataset_inputs]
    if record.model_inputs:
        inputs["model_inputs"] = [{"model_id": row.model_id} for row in record.model_inputs]
    body: JSON = {"info": _dump_run_info(record.run), "data": data, "inputs": inputs}
    if record.model_outputs:
        outputs = [{"model_id": row.model_id, "step": row.step} for row in record.model_outputs]
        body["outputs"] = {"model_outputs": outputs}
    return body


# --- timing -------------------------------------------------------------------------------------


def _timed(encode: Callable[[RunRecord], JSON], page: list[RunRecord]) -> float:
    start = time.perf_counter()
    for record in page:
        encode(record)
    return time.perf_counter() - start


def _canonical(body: JSON) -> str:
    return json.dumps(body, allow_nan=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=31)
    args = parser.parse_args()
    page = records(args.items)
    for record in page:
        if _canonical(run_json(record)) != _canonical(baseline_run(record)):
            raise SystemExit(f"outputs differ for run {record.run.run_uuid}")
    old: list[float] = []
    new: list[float] = []
    for _ in range(args.repeat):
        old.append(_timed(baseline_run, page))
        new.append(_timed(run_json, page))
    old_ms, new_ms = statistics.median(old) * 1000, statistics.median(new) * 1000
    print(f"| encoder ({args.items} runs, median of {args.repeat}) | ms |")
    print("|---|---|")
    print(f"| old hand-built dump_run | {old_ms:.1f} |")
    print(f"| wire encoder (api_reads.run_json) | {new_ms:.1f} |")
    print(f"| ratio ours/old | {new_ms / old_ms:.2f}x |")


if __name__ == "__main__":
    main()
