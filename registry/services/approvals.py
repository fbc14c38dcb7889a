"""Transition requests: who may approve, and the move an approval makes.

A model's policy (``registry.services.approval_policies``) is its protected stages and aliases
plus how many approvals a move into one of them needs and from whom: members of a named group,
else users with MANAGE on the model. While a policy requires approvals, nobody moves a version
into a protected target directly (``registry.auth.enforce`` refuses it); a transition request
does it once enough eligible users, never counting its requester, approved (an approval counts
while its approver is still eligible: a member of the group, or MANAGE). The final approval
performs the move in its own transaction, through the same stage and alias services as a direct
move, so the history and the events record it as they record any move.

A request is **stale** when, by its final approval, its version was deleted or its target's
holders are no longer those it was requested against (another move happened meanwhile): it is
closed as ``stale`` without moving anything, and must be requested again against the new state.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from registry.errors import InvalidParameter, InvalidState, NotFound, PermissionDenied
from registry.search.paging import decode_page_token, encode_page_token
from registry.services.aliases import move_alias, validate_alias
from registry.services.stages import move_to_stage, normalize_stage
from registry.store import approvals as store
from registry.store import write_transaction
from registry.store.aliases import find_alias
from registry.store.approval_models import RequestReview, TransitionRequest
from registry.store.events import record_event
from registry.store.model_versions import (
    EXCLUSIVE_STAGES,
    find_version,
    version_of,
    versions_in_stage,
)
from registry.store.registered_models import get_registered_model, lock_registered_model, now_ms
from registry.store.rows import RegisteredModel
from registry.wire import events

ENTITY = events.TRANSITION_REQUEST
MAX_COMMENT = 5000
STAGE, ALIAS = "stage", "alias"


@dataclass(frozen=True)
class Actor:
    """Who acts on a request: their username and user id, and whether they MANAGE the model.

    ``manages_now(user_id)`` tells whether another user MANAGEs the model now: an earlier
    approval counts only while its approver still may approve.
    """

    username: str
    user_id: int | None
    manages: bool
    manages_now: Callable[[int], bool]


@dataclass(frozen=True)
class RequestView:
    """A request with its model's name and its reviews (approvals, rejections, comments)."""

    request: TransitionRequest
    name: str
    reviews: list[RequestReview]
    approvals_required: int


# --- requests ---------------------------------------------------------------------------------


def request_transition(
    name: str,
    version: int,
    *,
    stage: str = "",
    alias: str = "",
    archive_existing: bool = False,
    comment: str = "",
    actor: Actor,
) -> RequestView:
    """Ask for a version to be moved into a protected stage or alias.

    Raises:
        InvalidParameter: neither or both of stage and alias, a bad stage or alias, the target
            needs no approval, or archive_existing with a stage other than Staging/Production.
        NotFound: no such model or version.
        InvalidState: the version is there already, or an open request asks the same.
    """
    kind, target = _target(stage, alias)
    if archive_existing and (kind != STAGE or target not in EXCLUSIVE_STAGES):
        raise InvalidParameter("archive_existing applies to the Staging and Production stages.")
    _check_comment(comment)
    with write_transaction():
        model = lock_registered_model(name)
        found = version_of(model, version)
        needed = store.approvals_needed(name, kind, target)
        if needed == 0:
            raise InvalidParameter(
                f"{_describe(kind, target)} of model {name!r} needs no approval: move it directly."
            )
        holders = _holders(model, kind, target)
        if str(version) in holders and (kind == ALIAS or found.current_stage == target):
            raise InvalidState(f"Version {version} is in {_describe(kind, target)} already.")
        duplicate = store.open_duplicate(int(model.id), version, kind, target)
        if duplicate is not None:
            raise InvalidState(f"Transition request {duplicate} already asks for this move.")
        now = now_ms()
        row = store.create_request(
            registered_model=model.id,
            version=version,
            kind=kind,
            target=target,
            archive_existing=archive_existing,
            status=store.OPEN,
            requested_by=actor.username,
            requester=actor.user_id,
            comment=comment,
            holders_before=",".join(holders),
            created_at=now,
            updated_at=now,
        )
        record_event(
            entity=ENTITY,
            action=events.CREATED,
            model_name=name,
            version=version,
            data=_event_data(row, name, approvals_required=needed),
            user_id=actor.username,
            timestamp=now,
        )
    return RequestView(row, name, [], needed)


def approve(request_id: int, actor: Actor, comment: str = "") -> RequestView:
    """Approve a request; the approval that reaches the policy's count performs the move.

    Raises:
        NotFound: no such request.
        PermissionDenied: the caller requested it, or may not approve on this model.
        InvalidState: the request is closed, the caller approved it already, or it is stale
            (it is then closed as ``stale``, and nothing moves).
    """
    _check_comment(comment)
    stale = ""
    with write_transaction():
        model, row = _locked(request_id)
        settings = _reviewable(model, row, actor, "approve")
        if actor.username in [name for name, _ in store.approvers_of(request_id)]:
            raise InvalidState(f"You approved transition request {request_id} already.")
        now = now_ms()
        stale = _stale_reason(model, row)
        if stale:
            store.set_status(row, store.STALE, actor.username, stale, now)
            record_event(
                entity=ENTITY,
                action=events.CANCELLED,
                model_name=str(model.name),
                version=int(row.version),
                data=_event_data(row, str(model.name), reason=stale),
                user_id=actor.username,
                timestamp=now,
            )
        else:
            store.add_review(row, store.APPROVE, actor.username, actor.user_id, comment, now)
            approvers = _counted(settings, actor, store.approvers_of(request_id))
            required = max(1, store.approvals_needed(str(model.name), row.kind, row.target))
            performed = len(approvers) >= required
            if performed:
                store.set_status(row, store.APPROVED, actor.username, "", now)
                _perform(model, row, actor, approvers)
            record_event(
                entity=ENTITY,
                action=events.APPROVED,
                model_name=str(model.name),
                version=int(row.version),
                data=_event_data(
                    row,
                    str(model.name),
                    approvals=len(approvers),
                    approvals_required=required,
                    approved_by=actor.username,
                    performed=performed,
                    approver_group=settings.approver_group,
                ),
                user_id=actor.username,
                timestamp=now,
            )
    if stale:
        raise InvalidState(
            f"Transition request {request_id} is stale ({stale}): it was closed without moving "
            "anything. Request the move again."
        )
    return get_request(request_id)


def reject(request_id: int, actor: Actor, comment: str = "") -> RequestView:
    """Reject a request (an eligible approver other than its requester).

    Raises:
        NotFound: no such request.
        PermissionDenied: the caller requested it, or may not approve on this model.
        InvalidState: the request is closed.
    """
    _check_comment(comment)
    with write_transaction():
        model, row = _locked(request_id)
        _reviewable(model, row, actor, "reject")
        _close(model, row, actor, store.REJECTED, store.REJECT, comment, events.REJECTED)
    return get_request(request_id)


def cancel(request_id: int, actor: Actor, comment: str = "") -> RequestView:
    """Withdraw a request (its requester, or a user with MANAGE on the model).

    Raises:
        NotFound: no such request.
        PermissionDenied: the caller is neither.
        InvalidState: the request is closed.
    """
    _check_comment(comment)
    with write_transaction():
        model, row = _locked(request_id)
        if not (_is_requester(row, actor) or actor.manages):
            raise PermissionDenied(
                f"Only the requester or a user with MANAGE on model {model.name!r} may cancel "
                "this request."
            )
        _open(row)
        _close(model, row, actor, store.CANCELLED, store.CANCEL, comment, events.CANCELLED)
    return get_request(request_id)


def add_comment(request_id: int, actor: Actor, text: str) -> RequestView:
    """Add a comment to a request (open or closed).

    Raises:
        NotFound: no such request.
        InvalidParameter: an empty or too long comment.
    """
    if not text.strip():
        raise InvalidParameter("A comment needs some text.")
    _check_comment(text)
    with write_transaction():
        _model, row = _locked(request_id)
        store.add_review(row, store.COMMENT, actor.username, actor.user_id, text, now_ms())
    return get_request(request_id)


def get_request(request_id: int) -> RequestView:
    """One request with its reviews.

    Raises:
        NotFound: no such request.
    """
    row = store.find_request(request_id)
    return _view(row, store.reviews_of([request_id])[request_id])


def list_requests(
    name: str | None, status: str | None, max_results: int, page_token: str | None
) -> tuple[list[RequestView], str | None]:
    """A page of requests, newest first (of one model, or of every model the viewer reads).

    ``status`` is ``open``, ``closed`` (any other) or one status; None lists all.

    Raises:
        NotFound: no such model.
        InvalidParameter: a bad status, max_results out of 1..1000 or a bad page token.
    """
    if not 1 <= max_results <= 1000:
        raise InvalidParameter("max_results must be between 1 and 1000.")
    if name is not None:
        _model_id(name)
    statuses = _statuses(status)
    offset = decode_page_token(page_token)
    rows = store.search_requests(name, statuses, offset, max_results + 1)
    token = encode_page_token(offset + max_results) if len(rows) > max_results else None
    rows = rows[:max_results]
    reviews = store.reviews_of(int(r.id) for r in rows)
    return [_view(r, reviews[int(r.id)]) for r in rows], token


def is_eligible(name: str, actor: Actor) -> bool:
    """Whether ``actor``'s approval would count on model ``name`` (ignoring who requested)."""
    settings = store.settings_of(_model_id(name))
    if settings.approver_group:
        return actor.user_id is not None and store.is_member(settings.approver_group, actor.user_id)
    return actor.manages


# --- helpers ----------------------------------------------------------------------------------


def _target(stage: str, alias: str) -> tuple[str, str]:
    if bool(stage) == bool(alias):
        raise InvalidParameter("Give either a stage or an alias to move the version into.")
    if stage:
        return STAGE, normalize_stage(stage)
    validate_alias(alias)
    return ALIAS, alias


def _check_comment(comment: str) -> None:
    if len(comment) > MAX_COMMENT:
        raise InvalidParameter(f"A comment is at most {MAX_COMMENT} characters.")


def _describe(kind: str, target: str) -> str:
    return f"stage {target}" if kind == STAGE else f"alias @{target}"


def _model_id(name: str) -> int:
    return int(get_registered_model(name).id)


def _holders(model: RegisteredModel, kind: str, target: str) -> list[str]:
    """The versions holding the target now, as strings, lowest first."""
    if kind == ALIAS:
        row = find_alias(model, target)
        return [] if row is None else [str(row.version)]
    return sorted((str(v.version) for v in versions_in_stage(model, target)), key=int)


def _locked(request_id: int) -> tuple[RegisteredModel, TransitionRequest]:
    # Locks before any plain read: see store.lock_request.
    model = store.lock_request(request_id)
    if model is None:
        raise NotFound(f"Transition request {request_id} not found.")
    return model, store.find_request(request_id)


def _counted(
    settings: store.Settings, actor: Actor, approvals: list[tuple[str, int | None]]
) -> list[str]:
    """The approvers whose approval counts now: the actor, and those still eligible."""
    counted = []
    for username, user_id in approvals:
        if username == actor.username:
            counted.append(username)
        elif user_id is None:
            continue  # the approver's account was deleted
        elif settings.approver_group:
            if store.is_member(settings.approver_group, user_id):
                counted.append(username)
        elif actor.manages_now(user_id):
            counted.append(username)
    return counted


def _open(row: TransitionRequest) -> None:
    if row.status != store.OPEN:
        raise InvalidState(f"Transition request {row.id} is {row.status}: it is closed.")


def _is_requester(row: TransitionRequest, actor: Actor) -> bool:
    if row.requester_id is not None and actor.user_id is not None:
        return int(row.requester_id) == actor.user_id
    return str(row.requested_by) == actor.username


def _reviewable(
    model: RegisteredModel, row: TransitionRequest, actor: Actor, verb: str
) -> store.Settings:
    _open(row)
    if _is_requester(row, actor):
        raise PermissionDenied(
            f"You requested transition request {row.id}: your own review does not count. "
            + ("Another approver must approve it." if verb == "approve" else "Cancel it instead.")
        )
    settings = store.settings_of(int(model.id))
    group = settings.approver_group
    if group:
        if actor.user_id is None or not store.is_member(group, actor.user_id):
            raise PermissionDenied(
                f"Only members of group {group!r} may {verb} transitions of model {model.name!r}."
            )
    elif not actor.manages:
        raise PermissionDenied(
            f"Only users with MANAGE on model {model.name!r} may {verb} its transitions."
        )
    return settings


def _stale_reason(model: RegisteredModel, row: TransitionRequest) -> str:
    if find_version(model, int(row.version)) is None:
        return f"version {row.version} was deleted"
    now = _holders(model, row.kind, row.target)
    before = [v for v in str(row.holders_before).split(",") if v]
    if now != before:
        held = ", ".join(before) or "nobody"
        holds = ", ".join(now) or "nobody"
        return f"{_describe(row.kind, row.target)} was held by {held} then and by {holds} now"
    return ""


def _perform(
    model: RegisteredModel, row: TransitionRequest, actor: Actor, approvers: list[str]
) -> None:
    found = version_of(model, int(row.version))
    note = f"request {row.id} by {row.requested_by}, approved by {', '.join(approvers)}"
    if row.comment:
        note += f": {row.comment}"
    if row.kind == STAGE:
        move_to_stage(
            model,
            found,
            str(row.target),
            archive_others=bool(row.archive_existing),
            user_id=actor.username,
            comment=note,
        )
    else:
        move_alias(model, str(row.target), int(row.version), user_id=actor.username, comment=note)


def _close(
    model: RegisteredModel,
    row: TransitionRequest,
    actor: Actor,
    status: str,
    action: str,
    comment: str,
    event: str,
) -> None:
    now = now_ms()
    store.add_review(row, action, actor.username, actor.user_id, comment, now)
    store.set_status(row, status, actor.username, comment, now)
    record_event(
        entity=ENTITY,
        action=event,
        model_name=str(model.name),
        version=int(row.version),
        data=_event_data(row, str(model.name), by=actor.username),
        user_id=actor.username,
        timestamp=now,
    )


def _event_data(row: TransitionRequest, name: str, **extra: Any) -> Mapping[str, Any]:
    data: dict[str, Any] = {
        "request_id": int(row.id),
        "name": name,
        "version": str(row.version),
        "status": str(row.status),
        "requested_by": str(row.requested_by),
        "comment": str(row.comment),
        row.kind: str(row.target),
    }
    if row.kind == STAGE:
        data["archive_existing_versions"] = bool(row.archive_existing)
    data.update(extra)
    return data


def _statuses(status: str | None) -> list[str]:
    if status in (None, "", "all"):
        return []
    if status == "closed":
        return [s for s in store.STATUSES if s != store.OPEN]
    if status not in store.STATUSES:
        named = ", ".join(store.STATUSES)
        raise InvalidParameter(f"Invalid status {status!r}: use closed, all or one of {named}.")
    return [status]


def _view(row: TransitionRequest, reviews: list[RequestReview]) -> RequestView:
    name = str(row.registered_model.name)
    required = store.approvals_needed(name, str(row.kind), str(row.target))
    return RequestView(row, name, reviews, max(1, required))
