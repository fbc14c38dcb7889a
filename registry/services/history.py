"""Reading the transition history, and rollback: undo the last change of a stage or alias."""

from __future__ import annotations

from dataclasses import dataclass

from registry.errors import InvalidParameter, InvalidState, NotFound
from registry.search.paging import decode_page_token, encode_page_token
from registry.services.aliases import move_alias, validate_alias
from registry.services.stages import move_to_stage, normalize_stage
from registry.store import write_transaction
from registry.store.model_versions import EXCLUSIVE_STAGES, find_version, version_of
from registry.store.registered_models import get_registered_model, lock_registered_model
from registry.store.rows import RegisteredModel, Transition
from registry.store.transitions import (
    entries_after,
    history_page,
    last_alias_entry_until,
    last_entry_id,
    stage_entries_until,
    undoable_entries,
)


@dataclass(frozen=True)
class HistoryPage:
    """One page of a model's history, newest first."""

    transitions: list[Transition]
    next_page_token: str | None


def model_history(
    name: str, *, version: int | None = None, max_results: int = 100, page_token: str = ""
) -> HistoryPage:
    """A model's stage changes and alias moves, newest first, paged.

    Raises:
        NotFound: no model has that name.
        InvalidParameter: a bad page token or max_results.
    """
    if not 1 <= max_results <= 10000:
        raise InvalidParameter("max_results must be between 1 and 10000.")
    offset = decode_page_token(page_token)
    model = get_registered_model(name)
    rows = history_page(model, version, offset=offset, limit=max_results + 1)
    more = len(rows) > max_results
    token = encode_page_token(offset + max_results) if more else None
    return HistoryPage(rows[:max_results], token)


def holders_at(name: str, at: int, *, stage: str = "", alias: str = "") -> list[int]:
    """The versions that held ``stage`` (or ``alias``) at time ``at`` (ms), by version.

    Raises:
        NotFound: no model has that name.
        InvalidParameter: neither or both of stage and alias given, or a bad stage.
    """
    if bool(stage) == bool(alias):
        raise InvalidParameter("Give exactly one of 'stage' and 'alias'.")
    model = get_registered_model(name)
    if alias:
        entry = last_alias_entry_until(model, alias, at)
        return [int(entry.to_value)] if entry is not None and entry.to_value else []
    wanted = normalize_stage(stage)
    current: dict[int, str] = {}
    for entry in stage_entries_until(model, at):
        current[entry.version or 0] = entry.to_value
    return sorted(v for v, held in current.items() if held == wanted)


def rollback(
    name: str, *, stage: str = "", alias: str = "", user_id: str = "", comment: str = ""
) -> list[Transition]:
    """Give a stage or alias back to its previous holder; returns the entries recorded.

    For a stage, the last un-undone promotion into it is undone: that version goes back to
    the stage it came from and the version that held the stage before it returns. For an
    alias, its last un-undone move is reversed. Each recorded entry carries ``rollback_of``,
    and undone entries are skipped next time, so repeated calls walk further back.

    Raises:
        NotFound: no model has that name.
        InvalidParameter: neither or both of stage and alias given, or a bad stage.
        InvalidState: nothing to roll back, or the previous holder no longer exists.
    """
    if bool(stage) == bool(alias):
        raise InvalidParameter("Give exactly one of 'stage' and 'alias'.")
    if stage:
        stage = normalize_stage(stage)
        if stage not in EXCLUSIVE_STAGES:
            raise InvalidParameter("Only Staging and Production can be rolled back.")
    else:
        validate_alias(alias)
    with write_transaction():
        model = lock_registered_model(name)
        first = last_entry_id(model)
        if stage:
            _rollback_stage(model, stage, user_id, comment)
        else:
            _rollback_alias(model, alias, user_id, comment)
        recorded = entries_after(model, first)
    return recorded[::-1]


def _rollback_stage(model: RegisteredModel, stage: str, user_id: str, comment: str) -> None:
    entries = undoable_entries(model, stage=stage)
    if not entries:
        raise InvalidState(f"Nothing to roll back: no recorded move into {stage}.")
    undone, earlier = entries[0], entries[1:]
    previous = next((e for e in earlier if e.version != undone.version), None)
    moved_out = find_version(model, undone.version or 0)
    if moved_out is not None and moved_out.current_stage == stage:
        back_to = undone.from_value if undone.from_value in ("None", "Staging") else "Archived"
        move_to_stage(
            model,
            moved_out,
            back_to if back_to != stage else "Archived",
            archive_others=False,
            user_id=user_id,
            comment=comment,
            rollback_of=undone.id,
        )
    if previous is not None:
        restored = find_version(model, previous.version or 0)
        if restored is None:
            raise InvalidState(f"Cannot roll back {stage}: version {previous.version} was deleted.")
        move_to_stage(
            model,
            restored,
            stage,
            archive_others=False,
            user_id=user_id,
            comment=comment,
            rollback_of=undone.id,
        )


def _rollback_alias(model: RegisteredModel, alias: str, user_id: str, comment: str) -> None:
    entries = undoable_entries(model, alias=alias)
    if not entries:
        raise InvalidState(f"Nothing to roll back: alias {alias} has no recorded move.")
    undone = entries[0]
    target = int(undone.from_value) if undone.from_value else None
    if target is not None:
        try:
            version_of(model, target)
        except NotFound as err:
            raise InvalidState(f"Cannot roll back alias {alias}: {err.message}") from None
    move_alias(model, alias, target, user_id=user_id, comment=comment, rollback_of=undone.id)
