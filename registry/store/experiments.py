"""Experiments: create, read, rename, soft-delete, restore, tag and search."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import PurePosixPath
from urllib.parse import unquote, urlsplit, urlunsplit

import peewee

from registry.errors import AlreadyExists, InvalidParameter, NotFound
from registry.search.paging import decode_page_token, encode_page_token
from registry.store import write_transaction
from registry.store.filters import search_experiments_query
from registry.store.models import ACTIVE, DELETED, Experiment, ExperimentTag, Run
from registry.store.permissions import visible_experiments
from registry.store.upserts import upsert_key_values
from registry.store.validation import (
    MAX_EXPERIMENT_TAG_VALUE_LENGTH,
    validate_length,
    validate_name,
    validate_tag,
)

DEFAULT_EXPERIMENT_ID = 0
MAX_SEARCH_RESULTS = 50000


def resolve_local_location(location: str | None, base: PurePosixPath) -> str | None:
    """An experiment's relative local ``artifact_location`` made absolute, as MLflow stores it.

    A relative path becomes ``base`` joined with it (``rel/x`` -> ``/srv/rel/x``, a plain path)
    and a relative ``file:`` URI a ``file://`` URI (``file:rel`` -> ``file:///srv/rel``);
    anything else is returned as given. Nothing is normalised: a ``..`` stays visible to the
    artifact-location gate, which refuses it.
    """
    if not location:
        return location
    parts = urlsplit(location)
    scheme = parts.scheme.lower()
    if scheme == "file" and parts.netloc in ("", "localhost"):
        if parts.path.startswith("/"):
            return location
        path = (base / unquote(parts.path)).as_posix()
        return urlunsplit(("file", "", path, parts.query, parts.fragment))
    if scheme or location.startswith("/"):
        return location
    return (base / location).as_posix()


@dataclass(frozen=True)
class ExperimentRecord:
    """An experiment row with its tags."""

    experiment: Experiment
    tags: list[ExperimentTag]


def now_ms() -> int:
    """The current time in milliseconds since the epoch."""
    return int(time.time() * 1000)


def parse_experiment_id(value: str | int) -> int:
    """The integer behind an experiment id string.

    Raises:
        InvalidParameter: the id is not an integer, or not one an experiment can have
            (0 to 2**63 - 1: the column is a signed 64-bit integer).
    """
    try:
        parsed = int(value)
    except (TypeError, ValueError):
        raise InvalidParameter(f"Invalid experiment ID: '{value}'") from None
    if not 0 <= parsed < 2**63:
        raise InvalidParameter(f"Invalid experiment ID: '{value}'")
    return parsed


def create_experiment(
    name: str, artifact_location: str | None = None, tags: dict[str, str] | None = None
) -> Experiment:
    """Create an active experiment and return it.

    Raises:
        InvalidParameter: the name or a tag is invalid.
        AlreadyExists: an experiment (active or deleted) already has this name.
    """
    validate_name(name, "experiment")
    if artifact_location:
        validate_length(artifact_location, 900, "artifact_location")
        if ".." in artifact_location.replace("\\", "/").split("/"):
            raise InvalidParameter(f"Invalid artifact_location {artifact_location!r}: '..'")
    tags = tags or {}
    for key, value in tags.items():
        validate_tag(key, value, MAX_EXPERIMENT_TAG_VALUE_LENGTH)
    now = now_ms()
    try:
        with write_transaction():
            experiment = Experiment.create(
                name=name,
                artifact_location=artifact_location or "",
                creation_time=now,
                last_update_time=now,
            )
            if not artifact_location:
                experiment.artifact_location = f"mlflow-artifacts:/{experiment.experiment_id}"
                experiment.save(only=[Experiment.artifact_location])
            upsert_key_values(
                ExperimentTag, ExperimentTag.experiment, experiment.experiment_id, tags
            )
    except peewee.IntegrityError:
        raise AlreadyExists(f"Experiment '{name}' already exists.") from None
    return experiment


def get_experiment(experiment_id: str | int) -> Experiment:
    """The experiment with this id, active or deleted.

    Raises:
        InvalidParameter: the id is not an integer.
        NotFound: no experiment has this id.
    """
    found = Experiment.get_or_none(Experiment.experiment_id == parse_experiment_id(experiment_id))
    if found is None:
        raise NotFound(f"No Experiment with id={experiment_id} exists")
    return found


def get_experiment_by_name(name: str) -> Experiment:
    """The experiment with this name, active or deleted.

    Raises:
        NotFound: no experiment has this name.
    """
    found = Experiment.get_or_none(Experiment.name == name)
    if found is None:
        raise NotFound(f"Could not find experiment with name '{name}'")
    return found


def get_active_experiment(experiment_id: str | int) -> Experiment:
    """The experiment, which must be active.

    Raises:
        InvalidParameter: the id is not an integer or the experiment is deleted.
        NotFound: no experiment has this id.
    """
    experiment = get_experiment(experiment_id)
    if experiment.lifecycle_stage != ACTIVE:
        raise InvalidParameter(
            f"The experiment {experiment.experiment_id} must be in the 'active' state. "
            f"Current state is {experiment.lifecycle_stage}."
        )
    return experiment


def with_tags(experiments: Iterable[Experiment]) -> list[ExperimentRecord]:
    """Attach each experiment's tags, fetched in one query."""
    rows = list(experiments)
    tags: dict[int, list[ExperimentTag]] = defaultdict(list)
    if rows:
        ids = [row.experiment_id for row in rows]
        for tag in ExperimentTag.select().where(ExperimentTag.experiment.in_(ids)):
            tags[tag.experiment_id].append(tag)
    return [ExperimentRecord(row, tags[row.experiment_id]) for row in rows]


def rename_experiment(experiment_id: str | int, new_name: str) -> None:
    """Give an active experiment a new name.

    Raises:
        InvalidParameter: the name is invalid or the experiment is deleted.
        NotFound: no experiment has this id.
        AlreadyExists: another experiment has this name.
    """
    validate_name(new_name, "experiment")
    try:
        with write_transaction():
            experiment = get_active_experiment(experiment_id)
            experiment.name = new_name
            experiment.last_update_time = now_ms()
            experiment.save(only=[Experiment.name, Experiment.last_update_time])
    except peewee.IntegrityError:
        raise AlreadyExists(f"Experiment '{new_name}' already exists.") from None


def delete_experiment(experiment_id: str | int) -> None:
    """Soft-delete an experiment and its active runs.

    Raises:
        InvalidParameter: the id is not an integer.
        NotFound: no experiment has this id.
    """
    with write_transaction():
        experiment = get_experiment(experiment_id)
        # Later than any run deleted on its own, so a restore can tell which runs it deleted.
        deleted_before = (
            Run.select(peewee.fn.MAX(Run.deleted_time))
            .where(Run.experiment == experiment.experiment_id)
            .scalar()
        )
        now = max(now_ms(), (deleted_before or 0) + 1)
        Experiment.update(lifecycle_stage=DELETED, deleted_time=now, last_update_time=now).where(
            Experiment.experiment_id == experiment.experiment_id
        ).execute()
        Run.update(lifecycle_stage=DELETED, deleted_time=now).where(
            Run.experiment == experiment.experiment_id, Run.lifecycle_stage == ACTIVE
        ).execute()


def restore_experiment(experiment_id: str | int) -> None:
    """Restore a deleted experiment and the runs its deletion deleted.

    Raises:
        InvalidParameter: the id is not an integer.
        NotFound: no experiment has this id.
    """
    with write_transaction():
        experiment = get_experiment(experiment_id)
        if experiment.lifecycle_stage == ACTIVE:
            return
        Run.update(lifecycle_stage=ACTIVE, deleted_time=None).where(
            Run.experiment == experiment.experiment_id,
            Run.lifecycle_stage == DELETED,
            Run.deleted_time == experiment.deleted_time,
        ).execute()
        Experiment.update(
            lifecycle_stage=ACTIVE, deleted_time=None, last_update_time=now_ms()
        ).where(Experiment.experiment_id == experiment.experiment_id).execute()


def set_experiment_tag(experiment_id: str | int, key: str, value: str) -> None:
    """Set a tag on an active experiment.

    Raises:
        InvalidParameter: the tag is invalid or the experiment is deleted.
        NotFound: no experiment has this id.
    """
    validate_tag(key, value, MAX_EXPERIMENT_TAG_VALUE_LENGTH)
    with write_transaction():
        experiment = get_active_experiment(experiment_id)
        upsert_key_values(
            ExperimentTag, ExperimentTag.experiment, experiment.experiment_id, {key: value}
        )


def delete_experiment_tag(experiment_id: str | int, key: str) -> None:
    """Remove a tag from an active experiment.

    Raises:
        InvalidParameter: the experiment is deleted.
        NotFound: no experiment has this id, or it has no such tag.
    """
    with write_transaction():
        experiment = get_active_experiment(experiment_id)
        deleted = (
            ExperimentTag.delete()
            .where(ExperimentTag.experiment == experiment.experiment_id, ExperimentTag.key == key)
            .execute()
        )
    if not deleted:
        raise NotFound(f"No tag with name: {key} in experiment with id {experiment_id}")


def search_experiments(
    filter_string: str | None,
    order_by: list[str] | None,
    view_type: str,
    max_results: int,
    page_token: str | None,
) -> tuple[list[ExperimentRecord], str | None]:
    """One page of experiments and the token of the next page (None on the last page).

    Raises:
        InvalidParameter: a bad filter, order_by, max_results or page token.
    """
    if not 1 <= max_results <= MAX_SEARCH_RESULTS:
        raise InvalidParameter(
            f"Invalid value {max_results} for parameter 'max_results' supplied. It must be at"
            f" most {MAX_SEARCH_RESULTS}, and at least 1."
        )
    offset = decode_page_token(page_token)
    query = search_experiments_query(filter_string, order_by, view_type)
    query = query.where(visible_experiments(Experiment.experiment_id))
    rows = list(query.offset(offset).limit(max_results + 1))
    token = encode_page_token(offset + max_results) if len(rows) > max_results else None
    return with_tags(rows[:max_results]), token
