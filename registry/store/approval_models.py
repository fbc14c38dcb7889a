"""Peewee models of approval policies, transition requests and approver groups (migration 8)."""

from __future__ import annotations

import peewee as pw

from registry.store.auth_models import User
from registry.store.models import BaseModel, RegisteredModel


class ApprovalPolicy(BaseModel):
    """How many approvals a move into a model's protected stages and aliases needs, from whom.

    The protected stages and aliases themselves are the model's ``ModelProtection`` rows; a
    model without a policy row (or with ``approvals_required`` 0) lets MANAGE move them.
    """

    registered_model = pw.ForeignKeyField(RegisteredModel, primary_key=True, on_delete="CASCADE")
    approvals_required = pw.IntegerField(default=0)
    approver_group = pw.CharField(max_length=256, null=True)

    registered_model_id: int  # foreign-key id accessor peewee adds; declared for the type checker

    class Meta:
        table_name = "registered_model_approval_policies"


class TransitionRequest(BaseModel):
    """A request to move a version into a stage or alias, and where it stands."""

    id = pw.AutoField()
    registered_model = pw.ForeignKeyField(RegisteredModel, on_delete="CASCADE")
    version = pw.IntegerField()
    kind = pw.CharField(max_length=8)
    target = pw.CharField(max_length=256)
    archive_existing = pw.BooleanField(default=False)
    status = pw.CharField(max_length=16)
    requested_by = pw.CharField(max_length=256)
    requester = pw.ForeignKeyField(User, null=True, on_delete="SET NULL")
    comment = pw.TextField(default="")
    holders_before = pw.CharField(max_length=1000, default="")
    created_at = pw.BigIntegerField()
    updated_at = pw.BigIntegerField()
    resolved_by = pw.CharField(max_length=256, default="")
    status_reason = pw.TextField(default="")

    registered_model_id: int  # foreign-key id accessor peewee adds; declared for the type checker
    requester_id: int | None  # foreign-key id accessor peewee adds; declared for the type checker

    class Meta:
        table_name = "transition_requests"
        indexes = ((("registered_model", "status"), False),)


class RequestReview(BaseModel):
    """One action on a request: an approval, a rejection, a cancellation or a comment."""

    id = pw.AutoField()
    request = pw.ForeignKeyField(TransitionRequest, backref="reviews", on_delete="CASCADE")
    action = pw.CharField(max_length=16)
    username = pw.CharField(max_length=256)
    user = pw.ForeignKeyField(User, null=True, on_delete="SET NULL")
    comment = pw.TextField(default="")
    timestamp = pw.BigIntegerField()

    request_id: int  # foreign-key id accessor peewee adds; declared for the type checker
    user_id: int | None  # foreign-key id accessor peewee adds; declared for the type checker

    class Meta:
        table_name = "transition_request_reviews"


class GroupMember(BaseModel):
    """A user's membership of a named group (approver groups; managed by admins)."""

    group_name = pw.CharField(max_length=256)
    user = pw.ForeignKeyField(User, backref="groups", on_delete="CASCADE")

    user_id: int  # foreign-key id accessor peewee adds; declared for the type checker

    class Meta:
        table_name = "user_group_members"
        primary_key = pw.CompositeKey("group_name", "user")


APPROVAL_TABLES = (ApprovalPolicy, TransitionRequest, RequestReview, GroupMember)
