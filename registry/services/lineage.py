"""A model version's lineage: the run it came from, that run's data and inputs, the logged model."""

from __future__ import annotations

from typing import Any

from registry.store.lineage import (
    find_logged_model,
    find_run,
    logged_model_tags,
    run_dataset_inputs,
    run_latest_metrics,
    run_params,
    run_tags,
)
from registry.store.metrics import logged_value
from registry.store.model_versions import get_model_version
from registry.store.rows import LoggedModel, ModelVersion, Run
from registry.wire.fields import double_to_json

GIT_COMMIT_TAG = "mlflow.source.git.commit"
SOURCE_NAME_TAG = "mlflow.source.name"
USER_TAG = "mlflow.user"


def version_lineage(name: str, version: int) -> tuple[ModelVersion, dict[str, Any]]:
    """The version and everything it came from, as JSON-ready parts.

    The parts are ``run`` (info, params, metrics, tags, dataset inputs; absent when the run is
    unknown), ``git_commit``, ``source_name``, ``user`` and ``logged_model``.

    Raises:
        NotFound: no such model or version.
    """
    found = get_model_version(name, version)
    parts: dict[str, Any] = {}
    run = find_run(found.run_id) if found.run_id else None
    if run is not None:
        tags = {tag.key: tag.value for tag in run_tags(run)}
        parts["run"] = _run_part(run, tags)
        parts["git_commit"] = tags.get(GIT_COMMIT_TAG, "")
        parts["source_name"] = tags.get(SOURCE_NAME_TAG, "")
        parts["user"] = tags.get(USER_TAG, run.user_id)
    logged = find_logged_model(found.model_id) if found.model_id else None
    if logged is not None:
        parts["logged_model"] = _logged_model_part(logged)
    return found, parts


def _run_part(run: Run, tags: dict[str, str]) -> dict[str, Any]:
    return {
        "run_id": run.run_uuid,
        "run_name": run.name,
        "experiment_id": str(run.experiment_id),
        "user_id": run.user_id,
        "status": run.status,
        "start_time": run.start_time,
        "end_time": run.end_time,
        "artifact_uri": run.artifact_uri,
        "lifecycle_stage": run.lifecycle_stage,
        "params": [{"key": p.key, "value": p.value} for p in run_params(run)],
        "metrics": [
            {
                "key": m.key,
                "value": double_to_json(logged_value(m.value, m.value_kind)),
                "step": m.step,
                "timestamp": m.timestamp,
            }
            for m in run_latest_metrics(run)
        ],
        "tags": [{"key": k, "value": v} for k, v in sorted(tags.items())],
        "dataset_inputs": [
            {
                "dataset": {
                    "name": dataset.name,
                    "digest": dataset.digest,
                    "source_type": dataset.source_type,
                    "source": dataset.source,
                },
                "tags": input_tags,
            }
            for dataset, input_tags in run_dataset_inputs(run)
        ],
    }


def _logged_model_part(logged: LoggedModel) -> dict[str, Any]:
    return {
        "model_id": logged.model_id,
        "name": logged.name,
        "experiment_id": str(logged.experiment_id),
        "artifact_uri": logged.artifact_uri,
        "status": logged.status,
        "source_run_id": logged.source_run_id or "",
        "tags": [{"key": t.key, "value": t.value} for t in logged_model_tags(logged)],
    }
