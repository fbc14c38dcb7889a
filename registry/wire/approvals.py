"""Ours: approval policies, transition requests and approver groups on the wire.

A policy extends a model's protections (``registered-models/protections``) with how many
approvals a move into a protected stage or alias needs and from which group. Requests live under
``/api/2.0/modelyard/transition-requests/``; groups under ``/api/2.0/modelyard/groups/``.
"""

from __future__ import annotations

from marshmallow import fields, validate

from registry.wire.auth import ProtectionArgs
from registry.wire.base import Entity, RequestSchema, entity, wire
from registry.wire.fields import IdString, Int64
from registry.wire.responses import body, one, page

STATUSES = ("open", "approved", "rejected", "cancelled", "stale")
"""Where a request stands: ``open`` until approved (the move was made), rejected, cancelled,
or closed as ``stale`` (its version was deleted or its target moved before the last approval)."""

_COMMENT = validate.Length(max=5000)


class PolicyArgs(ProtectionArgs):
    """A model's protected stages and aliases, and (optionally) its approval settings.

    ``approvals_required`` (0-10) and ``approver_group`` left out keep their stored values;
    ``approver_group`` empty means users with MANAGE on the model approve.
    """

    approvals_required = fields.Integer(load_default=None, validate=validate.Range(min=0, max=10))
    approver_group = fields.String(load_default=None, validate=validate.Length(max=256))


class NewRequestArgs(RequestSchema):
    """A request to move a version into a stage or an alias."""

    name = fields.String(required=True, validate=validate.Length(min=1))
    version = IdString(required=True)
    stage = fields.String(load_default="")
    alias = fields.String(load_default="")
    archive_existing_versions = fields.Boolean(load_default=False)
    comment = fields.String(load_default="", validate=_COMMENT)


class RequestIdArgs(RequestSchema):
    """One transition request."""

    request_id = fields.Integer(required=True)


class ReviewArgs(RequestIdArgs):
    """An approval, rejection, cancellation or comment on a request."""

    comment = fields.String(load_default="", validate=_COMMENT)


class RequestListArgs(RequestSchema):
    """Which requests to list: of one model (else every readable one), by status."""

    name = fields.String(load_default=None)
    status = fields.String(
        load_default="all", validate=validate.OneOf(("all", "closed", *STATUSES))
    )
    max_results = fields.Integer(load_default=100)
    page_token = fields.String(load_default=None)


class GroupMemberArgs(RequestSchema):
    """A user and a group (approver groups, managed by admins)."""

    group = fields.String(required=True, validate=validate.Length(min=1, max=256))
    username = fields.String(required=True, validate=validate.Length(min=1, max=256))


class GroupListArgs(RequestSchema):
    """One group, or every group."""

    group = fields.String(load_default=None)


@entity
class Review(Entity):
    """One action on a request: ``approve``, ``reject``, ``cancel`` or ``comment``."""

    action: str = wire(fields.String())
    username: str = wire(fields.String())
    comment: str = wire(fields.String(), default="")
    timestamp: int = wire(Int64(), default=0)


@entity
class TransitionRequest(Entity):
    """A request to move a version into a stage or alias, with its approvals and reviews."""

    id: str = wire(IdString())
    name: str = wire(fields.String())
    version: str = wire(IdString())
    status: str = wire(fields.String())
    requested_by: str = wire(fields.String(), default="")
    stage: str | None = wire(fields.String(), default=None, omit="none")
    alias: str | None = wire(fields.String(), default=None, omit="none")
    archive_existing_versions: bool = wire(fields.Boolean(), default=False)
    comment: str = wire(fields.String(), default="")
    holders_before: tuple[str, ...] = wire(fields.List(fields.String()), factory=tuple)
    approvals_required: int = wire(fields.Integer(), default=1)
    approvals: tuple[str, ...] = wire(fields.List(fields.String()), factory=tuple)
    created_at: int = wire(Int64(), default=0)
    updated_at: int = wire(Int64(), default=0)
    resolved_by: str = wire(fields.String(), default="", omit="empty")
    status_reason: str = wire(fields.String(), default="", omit="empty")
    reviews: tuple[Review, ...] = wire(fields.List(fields.Nested(Review.Schema)), factory=tuple)


@entity
class Group(Entity):
    """An approver group and its members' usernames."""

    group: str = wire(fields.String())
    members: tuple[str, ...] = wire(fields.List(fields.String()), factory=tuple)


@entity
class ApprovalPolicy(Entity):
    """A model's protected stages and aliases and the approvals a move into them needs."""

    name: str = wire(fields.String())
    stages: tuple[str, ...] = wire(fields.List(fields.String()), factory=tuple)
    aliases: tuple[str, ...] = wire(fields.List(fields.String()), factory=tuple)
    approvals_required: int = wire(fields.Integer(), default=0)
    approver_group: str | None = wire(fields.String(allow_none=True), default=None)


REQUEST = one("TransitionRequestResponse", "transition_request", TransitionRequest)
REQUESTS = page("TransitionRequestsPage", "transition_requests", TransitionRequest)
GROUPS = body("GroupsResponse", groups=fields.List(fields.Nested(Group.Schema)))
