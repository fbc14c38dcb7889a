"""Stage transitions, serialised per model and recorded in the history.

Two replicas promoting at once queue on the model row lock, so each sees the other's result.
On a model with ``exclusive_stages``, promoting to Staging or Production archives the previous
holder automatically (recorded like any other change): the stage never has two holders, and the
database's unique index on ``exclusive_stage`` backs that rule.
"""

from __future__ import annotations

from registry.errors import InvalidParameter, InvalidState
from registry.store import write_transaction
from registry.store.model_versions import (
    EXCLUSIVE_STAGES,
    STAGES,
    set_version_stage,
    sync_exclusive_column,
    version_of,
    versions_in_stage,
)
from registry.store.registered_models import (
    lock_registered_model,
    now_ms,
    record_model_updated,
    set_exclusive_flag,
)
from registry.store.rows import ModelVersion, RegisteredModel
from registry.store.transitions import STAGE, record_transition

ARCHIVED = "Archived"
_BY_LOWER = {stage.lower(): stage for stage in STAGES}


def normalize_stage(stage: str) -> str:
    """The canonical spelling of a stage given in any case.

    Raises:
        InvalidParameter: it is not a stage.
    """
    canonical = _BY_LOWER.get(stage.strip().lower())
    if canonical is None:
        raise InvalidParameter(
            f"Invalid Model Version stage: {stage}. "
            "Value must be one of None, Staging, Production, Archived."
        )
    return canonical


def transition_stage(
    name: str,
    version: int,
    stage: str,
    *,
    archive_existing_versions: bool = False,
    user_id: str = "",
    comment: str = "",
) -> ModelVersion:
    """Move a version to ``stage``, archiving other holders where asked or required.

    Raises:
        InvalidParameter: an unknown stage, or archive_existing_versions with a stage other
            than Staging or Production.
        NotFound: no such model or version.
    """
    stage = normalize_stage(stage)
    if archive_existing_versions and stage not in EXCLUSIVE_STAGES:
        raise InvalidParameter(
            f"Model version transition cannot archive existing model versions because "
            f"'{stage}' is not an Active stage. Valid stages are Staging, Production."
        )
    with write_transaction():
        model = lock_registered_model(name)
        found = version_of(model, version)
        return move_to_stage(
            model,
            found,
            stage,
            archive_others=archive_existing_versions,
            user_id=user_id,
            comment=comment,
        )


def move_to_stage(
    model: RegisteredModel,
    found: ModelVersion,
    stage: str,
    *,
    archive_others: bool,
    user_id: str,
    comment: str,
    rollback_of: int | None = None,
) -> ModelVersion:
    """Move one version (inside the caller's transaction, model row locked) and record it."""
    now = now_ms()
    exclusive = bool(model.exclusive_stages)
    if (archive_others or exclusive) and stage in EXCLUSIVE_STAGES:
        for other in versions_in_stage(model, stage):
            if other.id == found.id:
                continue
            set_version_stage(other, ARCHIVED, exclusive=exclusive, now=now)
            record_transition(
                model,
                kind=STAGE,
                version=other.version,
                from_value=stage,
                to_value=ARCHIVED,
                user_id=user_id,
                timestamp=now,
                comment=f"archived: version {found.version} moved to {stage}",
                rollback_of=rollback_of,
            )
    previous = found.current_stage
    set_version_stage(found, stage, exclusive=exclusive, now=now)
    record_transition(
        model,
        kind=STAGE,
        version=found.version,
        from_value=previous,
        to_value=stage,
        user_id=user_id,
        timestamp=now,
        comment=comment,
        rollback_of=rollback_of,
    )
    return found


def set_exclusive_stages(name: str, exclusive: bool, *, user_id: str = "") -> RegisteredModel:
    """Turn the one-holder rule for Staging and Production on or off for a model.

    Raises:
        NotFound: no model has that name.
        InvalidState: turning it on while a stage has several holders.
    """
    with write_transaction():
        model = lock_registered_model(name)
        if exclusive:
            for stage in EXCLUSIVE_STAGES:
                holders = versions_in_stage(model, stage)
                if len(holders) > 1:
                    numbers = ", ".join(str(v.version) for v in holders)
                    raise InvalidState(
                        f"Cannot make stages exclusive: versions {numbers} are all in {stage}. "
                        "Archive all but one first."
                    )
        set_exclusive_flag(model, exclusive)
        sync_exclusive_column(model, exclusive)
        record_model_updated(model, user_id)
    return model
