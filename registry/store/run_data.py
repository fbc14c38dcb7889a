"""Params and tags of runs, and log-batch: every write of a batch in one transaction."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import cast

from registry.errors import InvalidParameter, NotFound
from registry.store import write_transaction
from registry.store.bulk import insert_rows
from registry.store.metrics import MetricPoint, insert_points, validate_points
from registry.store.models import Param, Run, RunTag
from registry.store.runs import RUN_NAME_TAG, require_active_run
from registry.store.upserts import upsert_key_values
from registry.store.validation import (
    validate_batch_sizes,
    validate_param,
    validate_tag,
)


def log_param(run_id: str, key: str, value: str) -> None:
    """Log a param; logging the same value again is fine, a different one is not.

    Raises:
        InvalidParameter: a bad key or value, a changed value, or the run is deleted.
        NotFound: no run has this id.
    """
    log_batch(run_id, params=[(key, value)])


def set_tag(run_id: str, key: str, value: str) -> None:
    """Set (or overwrite) a tag; ``mlflow.runName`` also renames the run.

    Raises:
        InvalidParameter: a bad key or value, or the run is deleted.
        NotFound: no run has this id.
    """
    log_batch(run_id, tags=[(key, value)])


def delete_tag(run_id: str, key: str) -> None:
    """Remove a tag from an active run.

    Raises:
        InvalidParameter: the run is deleted.
        NotFound: no run has this id, or it has no such tag.
    """
    with write_transaction():
        require_active_run(run_id)
        deleted = RunTag.delete().where(RunTag.run == run_id, RunTag.key == key).execute()
    if not deleted:
        raise NotFound(f"No tag with name: {key} in run with id {run_id}")


MODEL_HISTORY_TAG = "mlflow.log-model.history"


def log_model_history(run_id: str, model_json: str) -> None:
    """Append an MLflow 2 model description to the run's ``mlflow.log-model.history`` tag.

    Raises:
        InvalidParameter: ``model_json`` is not a JSON object, or the run is deleted.
        NotFound: no run has this id.
    """
    try:
        model = json.loads(model_json)
    except ValueError:
        raise InvalidParameter("model_json is not valid JSON.") from None
    if not isinstance(model, dict):
        raise InvalidParameter("model_json must be a JSON object.")
    with write_transaction():
        require_active_run(run_id)
        current = (
            RunTag.select(RunTag.value)
            .where(RunTag.run == run_id, RunTag.key == MODEL_HISTORY_TAG)
            .scalar()
        )
        history = json.loads(current) if current else []
        history.append(model)
        upsert_key_values(RunTag, RunTag.run, run_id, {MODEL_HISTORY_TAG: json.dumps(history)})


def log_batch(
    run_id: str,
    metrics: Sequence[MetricPoint] = (),
    params: Sequence[tuple[str, str]] = (),
    tags: Sequence[tuple[str, str]] = (),
) -> None:
    """Store metrics, params and tags of one run atomically: all of them or none.

    Raises:
        InvalidParameter: a limit is exceeded, an entry is invalid, a param would change, or
            the run is deleted.
        NotFound: no run has this id.
    """
    validate_batch_sizes(metrics, params, tags)
    validate_points(metrics)
    new_params = _unique_params(params)
    for key, value in tags:
        validate_tag(key, value)
    with write_transaction():
        experiment_id = require_active_run(run_id)
        if new_params:
            _insert_params(run_id, new_params)
        if tags:
            tag_values = dict(tags)
            upsert_key_values(RunTag, RunTag.run, run_id, tag_values)
            if RUN_NAME_TAG in tag_values:
                Run.update(name=tag_values[RUN_NAME_TAG]).where(Run.run_uuid == run_id).execute()
        if metrics:
            insert_points(run_id, experiment_id, metrics)


def _unique_params(params: Sequence[tuple[str, str]]) -> dict[str, str]:
    unique: dict[str, str] = {}
    for key, value in params:
        validate_param(key, value)
        if key in unique and unique[key] != value:
            raise InvalidParameter(
                f"Duplicate parameter keys have been submitted: ['{key}'] with different values."
            )
        unique[key] = value
    return unique


def _insert_params(run_id: str, params: dict[str, str]) -> None:
    # Insert first: a new run's params all go in with no read. Only when some key was already
    # there (or a concurrent writer logged it) is the stored value read, to refuse a change.
    rows = [(run_id, key, value) for key, value in sorted(params.items())]
    if insert_rows(Param, ("run", "key", "value"), rows) < len(rows):
        _check_unchanged(run_id, params)


def _check_unchanged(run_id: str, params: dict[str, str]) -> None:
    existing = Param.select(Param.key, Param.value).where(
        Param.run == run_id, Param.key.in_(list(params))
    )
    rows = cast(Iterable[tuple[str, str]], existing.tuples())
    for key, value in rows:
        if params[key] != value:
            raise InvalidParameter(
                f"Changing param values is not allowed. Param with key='{key}' was already logged"
                f" with value='{value}' for run ID='{run_id}'. Attempted logging new value"
                f" '{params[key]}'."
            )
