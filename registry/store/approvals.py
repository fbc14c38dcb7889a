"""Approval policies, transition requests with their reviews, and approver groups: the queries.

The rules (who may approve, when a request is stale, performing the move) live in
``registry.services.approvals``; these functions only read and write rows, inside the caller's
transaction where they change something.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, cast

from registry.errors import NotFound
from registry.store import lock_for_update
from registry.store.approval_models import (
    ApprovalPolicy,
    GroupMember,
    RequestReview,
    TransitionRequest,
)
from registry.store.auth_models import ModelProtection, User
from registry.store.models import RegisteredModel
from registry.store.permissions import is_protected, visible_models
from registry.store.upserts import upsert_rows

OPEN = "open"
APPROVED = "approved"
REJECTED = "rejected"
CANCELLED = "cancelled"
STALE = "stale"
STATUSES = (OPEN, APPROVED, REJECTED, CANCELLED, STALE)

APPROVE = "approve"
REJECT = "reject"
CANCEL = "cancel"
COMMENT = "comment"


@dataclass(frozen=True)
class Settings:
    """A model's approval settings: how many approvals, and from which group (None: MANAGE)."""

    approvals_required: int = 0
    approver_group: str | None = None


# --- policies ---------------------------------------------------------------------------------


def settings_of(model_id: int) -> Settings:
    """The approval settings of a model (no approvals when it has none)."""
    row = ApprovalPolicy.get_or_none(ApprovalPolicy.registered_model == model_id)
    if row is None:
        return Settings()
    return Settings(int(row.approvals_required), row.approver_group or None)


def put_settings(model_id: int, settings: Settings) -> None:
    """Store a model's approval settings (inside the caller's transaction)."""
    row = {
        "registered_model": model_id,
        "approvals_required": settings.approvals_required,
        "approver_group": settings.approver_group,
    }
    upsert_rows(
        ApprovalPolicy,
        [row],
        key=(ApprovalPolicy.registered_model,),
        update=(ApprovalPolicy.approvals_required, ApprovalPolicy.approver_group),
    )


def approvals_needed(model_name: str, kind: str, target: str) -> int:
    """How many approvals a move of a version into stage or alias ``target`` needs (0: none).

    ``target`` matches as the views read it (``permissions.target_key``). 0 when the target is
    not protected or the model's policy asks for no approvals.
    """
    query = (
        ApprovalPolicy.select(ApprovalPolicy.approvals_required, ModelProtection.value)
        .join(RegisteredModel, on=ApprovalPolicy.registered_model == RegisteredModel.id)
        .join(ModelProtection, on=ModelProtection.registered_model == RegisteredModel.id)
        .where(
            RegisteredModel.name == model_name,
            ApprovalPolicy.approvals_required > 0,
            ModelProtection.kind == kind,
        )
    )
    rows: Any = query.tuples()
    for required, value in rows:
        if is_protected(kind, target, [str(value)]):
            return int(required)
    return 0


def requires_approvals(model_name: str) -> bool:
    """Whether a model's policy requires approvals (for moves into its protected targets)."""
    return bool(
        ApprovalPolicy.select()
        .join(RegisteredModel, on=ApprovalPolicy.registered_model == RegisteredModel.id)
        .where(RegisteredModel.name == model_name, ApprovalPolicy.approvals_required > 0)
        .exists()
    )


# --- groups -----------------------------------------------------------------------------------


def add_member(group: str, user_id: int) -> None:
    """Add a user to a group (no change when already a member)."""
    upsert_rows(
        GroupMember,
        [{"group_name": group, "user": user_id}],
        key=(GroupMember.group_name, GroupMember.user),
        update=(GroupMember.group_name,),
    )


def remove_member(group: str, user_id: int) -> None:
    """Remove a user from a group.

    Raises:
        NotFound: the user was not a member.
    """
    deleted = (
        GroupMember.delete()
        .where(GroupMember.group_name == group, GroupMember.user == user_id)
        .execute()
    )
    if not deleted:
        raise NotFound(f"The user is not a member of group {group!r}.")


def is_member(group: str, user_id: int) -> bool:
    """Whether the user belongs to the group."""
    return bool(
        GroupMember.select()
        .where(GroupMember.group_name == group, GroupMember.user == user_id)
        .exists()
    )


def groups(group: str | None = None) -> dict[str, list[str]]:
    """Every group (or one) with its members' usernames, sorted."""
    query = (
        GroupMember.select(GroupMember.group_name, User.username)
        .join(User)
        .order_by(GroupMember.group_name, User.username)
    )
    if group is not None:
        query = query.where(GroupMember.group_name == group)
    found: dict[str, list[str]] = {}
    rows: Any = query.tuples()
    for name, username in rows:
        found.setdefault(str(name), []).append(str(username))
    return found


# --- requests ---------------------------------------------------------------------------------


def create_request(**values: object) -> TransitionRequest:
    """Insert a request (inside the caller's transaction)."""
    return TransitionRequest.create(**values)


def find_request(request_id: int) -> TransitionRequest:
    """A request with its model row loaded.

    Raises:
        NotFound: no request has that id.
    """
    found = (
        TransitionRequest.select(TransitionRequest, RegisteredModel)
        .join(RegisteredModel)
        .where(TransitionRequest.id == request_id)
        .first()
    )
    if found is None:
        raise NotFound(f"Transition request {request_id} not found.")
    return found  # type: ignore[no-any-return]


def lock_request(request_id: int) -> RegisteredModel | None:
    """Lock a request's row, then its model's; the model row, or None when there is no request.

    Both are locking reads: on MySQL a plain read would fix the transaction's snapshot before
    the wait for the lock, and the waiter would then act on what it read before it waited.
    """
    query: Any = TransitionRequest.select(TransitionRequest.registered_model).where(
        TransitionRequest.id == request_id
    )
    found = lock_for_update(query).first()
    if found is None:
        return None
    model: Any = RegisteredModel.select().where(RegisteredModel.id == found.registered_model_id)
    return cast(RegisteredModel, lock_for_update(model).get())


def model_name_of_request(request_id: int) -> str | None:
    """The name of the model a request is about, or None when there is no such request."""
    value: str | None = (
        RegisteredModel.select(RegisteredModel.name)
        .join(TransitionRequest, on=TransitionRequest.registered_model == RegisteredModel.id)
        .where(TransitionRequest.id == request_id)
        .scalar()
    )
    return value


def open_duplicate(model_id: int, version: int, kind: str, target: str) -> int | None:
    """The id of an open request for the same move, or None."""
    value: int | None = (
        TransitionRequest.select(TransitionRequest.id)
        .where(
            TransitionRequest.registered_model == model_id,
            TransitionRequest.version == version,
            TransitionRequest.kind == kind,
            TransitionRequest.target == target,
            TransitionRequest.status == OPEN,
        )
        .scalar()
    )
    return value


def set_status(found: TransitionRequest, status: str, by: str, reason: str, now: int) -> None:
    """Close a request (inside the caller's transaction)."""
    found.status, found.resolved_by, found.status_reason, found.updated_at = (
        status,
        by,
        reason,
        now,
    )
    TransitionRequest.update(
        status=status, resolved_by=by, status_reason=reason, updated_at=now
    ).where(TransitionRequest.id == found.id).execute()


def add_review(
    found: TransitionRequest,
    action: str,
    username: str,
    user_id: int | None,
    comment: str,
    now: int,
) -> RequestReview:
    """Append an approval, rejection, cancellation or comment to a request."""
    TransitionRequest.update(updated_at=now).where(TransitionRequest.id == found.id).execute()
    found.updated_at = now
    return RequestReview.create(
        request=found.id,
        action=action,
        username=username,
        user=user_id,
        comment=comment,
        timestamp=now,
    )


def approvers_of(request_id: int) -> list[tuple[str, int | None]]:
    """Who approved a request (username, user id: None once the user was deleted), in order."""
    query = (
        RequestReview.select(RequestReview.username, RequestReview.user)
        .where(RequestReview.request == request_id, RequestReview.action == APPROVE)
        .order_by(RequestReview.id)
    )
    rows: Any = query.tuples()
    return [(str(name), None if user is None else int(user)) for name, user in rows]


def reviews_of(request_ids: Iterable[int]) -> dict[int, list[RequestReview]]:
    """Each request's reviews, oldest first."""
    ids = list(request_ids)
    found: dict[int, list[RequestReview]] = {i: [] for i in ids}
    if not ids:
        return found
    query = RequestReview.select().where(RequestReview.request.in_(ids)).order_by(RequestReview.id)
    for row in query:
        found[int(row.request_id)].append(row)
    return found


def search_requests(
    model_name: str | None, statuses: list[str], offset: int, limit: int
) -> list[TransitionRequest]:
    """Requests (of one model, or of every model the bound viewer may read), newest first."""
    query = (
        TransitionRequest.select(TransitionRequest, RegisteredModel)
        .join(RegisteredModel)
        .where(visible_models(RegisteredModel.id))
    )
    if model_name is not None:
        query = query.where(RegisteredModel.name == model_name)
    if statuses:
        query = query.where(TransitionRequest.status.in_(statuses))
    query = query.order_by(TransitionRequest.id.desc()).offset(offset).limit(limit)
    return list(query)
