"""Migration 8: approval policies, transition requests with their reviews, approver groups.

The model classes below are a frozen copy of ``registry/store/approval_models.py`` as it stood
when this migration was written (peewee's rule for migrations). ``registered_models`` and
``users`` appear only as far as the foreign keys need them; they are not created here.
"""

from __future__ import annotations

import peewee as pw

_proxy = pw.DatabaseProxy()


class BaseModel(pw.Model):
    class Meta:
        database = _proxy
        legacy_table_names = False


class RegisteredModel(BaseModel):
    id = pw.AutoField()

    class Meta:
        table_name = "registered_models"


class User(BaseModel):
    id = pw.AutoField()

    class Meta:
        table_name = "users"


class ApprovalPolicy(BaseModel):
    registered_model = pw.ForeignKeyField(RegisteredModel, primary_key=True, on_delete="CASCADE")
    approvals_required = pw.IntegerField(default=0)
    approver_group = pw.CharField(max_length=256, null=True)

    class Meta:
        table_name = "registered_model_approval_policies"


class TransitionRequest(BaseModel):
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

    class Meta:
        table_name = "transition_requests"
        indexes = ((("registered_model", "status"), False),)


class RequestReview(BaseModel):
    id = pw.AutoField()
    request = pw.ForeignKeyField(TransitionRequest, on_delete="CASCADE")
    action = pw.CharField(max_length=16)
    username = pw.CharField(max_length=256)
    user = pw.ForeignKeyField(User, null=True, on_delete="SET NULL")
    comment = pw.TextField(default="")
    timestamp = pw.BigIntegerField()

    class Meta:
        table_name = "transition_request_reviews"


class GroupMember(BaseModel):
    group_name = pw.CharField(max_length=256)
    user = pw.ForeignKeyField(User, on_delete="CASCADE")

    class Meta:
        table_name = "user_group_members"
        primary_key = pw.CompositeKey("group_name", "user")


FROZEN = (ApprovalPolicy, TransitionRequest, RequestReview, GroupMember)


def up(database: pw.Database) -> None:
    """Create the tables."""
    _proxy.initialize(database)
    database.create_tables(FROZEN, safe=True)


def down(database: pw.Database) -> None:
    """Drop the tables."""
    _proxy.initialize(database)
    database.drop_tables(FROZEN, safe=True, cascade=isinstance(database, pw.PostgresqlDatabase))
