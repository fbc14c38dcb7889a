"""Runs: create, read (with params, tags, latest metrics, inputs, outputs), update, delete."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, cast

from registry.errors import InvalidParameter, NotFound
from registry.store import lock_for_update, write_transaction
from registry.store.bulk import STRICT, insert_rows
from registry.store.experiments import get_active_experiment, now_ms, parse_experiment_id
from registry.store.models import (
    ACTIVE,
    DELETED,
    Experiment,
    Run,
    RunTag,
)
from registry.store.run_names import generate_run_name
from registry.store.run_rows import (
    DatasetInputRow,
    KeyValueRow,
    LatestMetricRow,
    ModelInputRow,
    ModelOutputRow,
    load_related,
)
from registry.store.statements import Statement
from registry.store.upserts import upsert_key_values
from registry.store.validation import validate_length, validate_name, validate_tag

RUN_NAME_TAG = "mlflow.runName"
RUN_STATUSES = ("RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED")


@dataclass(frozen=True)
class RunRecord:
    """A run row with everything ``runs/get`` returns about it."""

    run: Run
    params: list[KeyValueRow]
    tags: list[KeyValueRow]
    metrics: list[LatestMetricRow]
    dataset_inputs: list[DatasetInputRow]
    model_inputs: list[ModelInputRow]
    model_outputs: list[ModelOutputRow]


def create_run(
    experiment_id: str | int,
    user_id: str = "",
    run_name: str | None = None,
    start_time: int | None = None,
    tags: dict[str, str] | None = None,
) -> Run:
    """Create a RUNNING run in an active experiment; invent a name when none is given.

    Raises:
        InvalidParameter: a tag is invalid, the names disagree, or the experiment is deleted.
        NotFound: no experiment has this id.
    """
    return create_run_record(experiment_id, user_id, run_name, start_time, tags).run


def create_run_record(
    experiment_id: str | int,
    user_id: str = "",
    run_name: str | None = None,
    start_time: int | None = None,
    tags: dict[str, str] | None = None,
) -> RunRecord:
    """Like ``create_run``, returning the new run as ``runs/get`` shows it (no extra reads).

    Raises:
        InvalidParameter: a tag is invalid, the names disagree, or the experiment is deleted.
        NotFound: no experiment has this id.
    """
    validate_length(user_id, 256, "user_id")
    if run_name:
        validate_name(run_name, "run")
    tags = dict(tags or {})
    for key, value in tags.items():
        validate_tag(key, value)
    tagged_name = tags.get(RUN_NAME_TAG)
    if run_name and tagged_name and run_name != tagged_name:
        raise InvalidParameter(
            f"Both 'run_name' argument and '{RUN_NAME_TAG}' tag are specified, but with "
            f"different values (run_name='{run_name}', {RUN_NAME_TAG}='{tagged_name}')."
        )
    name = run_name or tagged_name or generate_run_name()
    tags[RUN_NAME_TAG] = name
    run_id = uuid.uuid4().hex
    with write_transaction():
        artifact_location = _active_experiment_location(experiment_id)
        run = Run(
            run_uuid=run_id,
            experiment=parse_experiment_id(experiment_id),
            name=name,
            user_id=user_id or "",
            status="RUNNING",
            start_time=now_ms() if start_time is None else start_time,
            lifecycle_stage=ACTIVE,
            artifact_uri=f"{artifact_location}/{run_id}/artifacts",
        )
        # The SQL of both inserts is built once (registry.store.bulk); the answer is what was
        # inserted, with no read back.
        insert_rows(Run, _RUN_COLUMNS, [[run.__data__.get(c) for c in _RUN_COLUMNS]], STRICT)
        tag_values = [(run_id, key, value) for key, value in tags.items()]
        insert_rows(RunTag, ("run", "key", "value"), tag_values, STRICT)
    tag_rows = [KeyValueRow(run_id, key, tags[key]) for key in sorted(tags)]
    return RunRecord(run, [], tag_rows, [], [], [], [])


_RUN_COLUMNS = (
    "run_uuid",
    "experiment",
    "name",
    "user_id",
    "status",
    "start_time",
    "end_time",
    "lifecycle_stage",
    "artifact_uri",
    "deleted_time",
)
_EXPERIMENT_STATE = Statement(
    lambda: Experiment.select(Experiment.lifecycle_stage, Experiment.artifact_location).where(
        Experiment.experiment_id == 0
    )
)


def _active_experiment_location(experiment_id: str | int) -> str:
    """The artifact location of an active experiment (SQL built once).

    Raises:
        InvalidParameter: the id is not an integer or the experiment is deleted.
        NotFound: no experiment has this id.
    """
    row = _EXPERIMENT_STATE.first(parse_experiment_id(experiment_id))
    if row is None or row[0] != ACTIVE:
        return get_active_experiment(experiment_id).artifact_location  # raises the answer
    return str(row[1])


def get_run_row(run_id: str) -> Run:
    """The run row alone, active or deleted.

    Raises:
        NotFound: no run has this id.
    """
    found = Run.get_or_none(Run.run_uuid == run_id)
    if found is None:
        raise NotFound(f"Run with id={run_id} not found")
    return found


def get_run(run_id: str) -> RunRecord:
    """The run with its params, tags, latest metrics, inputs and outputs.

    Raises:
        NotFound: no run has this id.
    """
    return load_records([get_run_row(run_id)])[0]


def require_active_run(run_id: str) -> int:
    """Check in one query that the run exists and is active, lock it for this write.

    Returns the run's experiment id (metric writes store it with each latest value).

    Raises:
        NotFound: no run has this id.
        InvalidParameter: the run is deleted.
    """
    row = _RUN_STATE.first(run_id)
    if row is None:
        raise NotFound(f"Run with id={run_id} not found")
    if row[0] != ACTIVE:
        raise InvalidParameter(
            f"The run {run_id} must be in the 'active' state. Current state is {row[0]}."
        )
    return int(row[1])


_RUN_STATE = Statement(
    # Locking the run row queues writers of one run behind each other on PostgreSQL and MySQL,
    # so their metric and latest-value writes cannot deadlock (SQLite's write lock does this).
    lambda: lock_for_update(
        cast(Any, Run.select(Run.lifecycle_stage, Run.experiment).where(Run.run_uuid == ""))
    )
)


def load_records(runs: Iterable[Run]) -> list[RunRecord]:
    """Attach related rows to ``runs`` with one query per related table (no N+1)."""
    rows = list(runs)
    if not rows:
        return []
    related = load_related([run.run_uuid for run in rows])
    names = ("params", "tags", "metrics", "dataset_inputs", "model_inputs", "model_outputs")
    return [
        RunRecord(run, **{name: related[run.run_uuid].get(name, []) for name in names})
        for run in rows
    ]


def update_run(
    run_id: str, status: str | None = None, end_time: int | None = None, run_name: str | None = None
) -> Run:
    """Change an active run's status, end time or name (the name also rewrites its tag).

    Raises:
        InvalidParameter: a bad status or name, or the run is deleted.
        NotFound: no run has this id.
    """
    if status is not None and status not in RUN_STATUSES:
        raise InvalidParameter(
            f"Invalid run status {status!r}: use one of {', '.join(RUN_STATUSES)}"
        )
    if run_name:
        validate_name(run_name, "run")
    with write_transaction():
        require_active_run(run_id)
        run = get_run_row(run_id)
        if status is not None:
            run.status = status
        if end_time is not None:
            run.end_time = end_time
        if run_name:
            run.name = run_name
            upsert_key_values(RunTag, RunTag.run, run_id, {RUN_NAME_TAG: run_name})
        run.save()
    return run


def delete_run(run_id: str) -> None:
    """Soft-delete a run.

    Raises:
        NotFound: no run has this id.
    """
    with write_transaction():
        get_run_row(run_id)
        Run.update(lifecycle_stage=DELETED, deleted_time=now_ms()).where(
            Run.run_uuid == run_id, Run.lifecycle_stage == ACTIVE
        ).execute()


def restore_run(run_id: str) -> None:
    """Restore a soft-deleted run.

    Raises:
        NotFound: no run has this id.
    """
    with write_transaction():
        get_run_row(run_id)
        Run.update(lifecycle_stage=ACTIVE, deleted_time=None).where(
            Run.run_uuid == run_id
        ).execute()
