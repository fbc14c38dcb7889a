"""Peewee models of identity, permissions and the audit log (created by migration 5)."""

from __future__ import annotations

import peewee as pw

from registry.store.models import BaseModel, Experiment, RegisteredModel


class User(BaseModel):
    """A person (with a password) or a service account (tokens only)."""

    id = pw.AutoField()
    username = pw.CharField(max_length=256, unique=True)
    password_hash = pw.CharField(max_length=255, null=True)
    is_admin = pw.BooleanField(default=False)
    is_service_account = pw.BooleanField(default=False)
    created_at = pw.BigIntegerField()

    class Meta:
        table_name = "users"


class ApiToken(BaseModel):
    """A personal or service-account token; only a hash of its secret is kept."""

    id = pw.AutoField()
    user = pw.ForeignKeyField(User, backref="tokens", on_delete="CASCADE")
    name = pw.CharField(max_length=256, default="")
    lookup = pw.CharField(max_length=32, unique=True)
    secret_hash = pw.CharField(max_length=64)
    scope = pw.CharField(max_length=16)
    created_at = pw.BigIntegerField()
    expires_at = pw.BigIntegerField(null=True)
    revoked_at = pw.BigIntegerField(null=True)

    user_id: int  # foreign-key id accessor peewee adds; declared for the type checker

    class Meta:
        table_name = "api_tokens"


class ExperimentPermission(BaseModel):
    """One user's level on one experiment (and so its runs, logged models and artifacts)."""

    experiment = pw.ForeignKeyField(Experiment, on_delete="CASCADE")
    user = pw.ForeignKeyField(User, backref="experiment_permissions", on_delete="CASCADE")
    permission = pw.CharField(max_length=32)

    experiment_id: int  # foreign-key id accessor peewee adds; declared for the type checker
    user_id: int  # foreign-key id accessor peewee adds; declared for the type checker

    class Meta:
        table_name = "experiment_permissions"
        primary_key = pw.CompositeKey("experiment", "user")


class RegisteredModelPermission(BaseModel):
    """One user's level on one registered model (and its versions, aliases and stages)."""

    registered_model = pw.ForeignKeyField(RegisteredModel, on_delete="CASCADE")
    user = pw.ForeignKeyField(User, backref="model_permissions", on_delete="CASCADE")
    permission = pw.CharField(max_length=32)

    registered_model_id: int  # foreign-key id accessor peewee adds; declared for the type checker
    user_id: int  # foreign-key id accessor peewee adds; declared for the type checker

    class Meta:
        table_name = "registered_model_permissions"
        primary_key = pw.CompositeKey("registered_model", "user")


class ModelProtection(BaseModel):
    """A stage or alias of a registered model that only MANAGE may move."""

    registered_model = pw.ForeignKeyField(RegisteredModel, on_delete="CASCADE")
    kind = pw.CharField(max_length=8)
    value = pw.CharField(max_length=256)

    registered_model_id: int  # foreign-key id accessor peewee adds; declared for the type checker

    class Meta:
        table_name = "registered_model_protections"
        primary_key = pw.CompositeKey("registered_model", "kind", "value")


class AuditEntry(BaseModel):
    """One write: who, what, which object, when, from which address."""

    id = pw.AutoField()
    at = pw.BigIntegerField(index=True)
    username = pw.CharField(max_length=256, index=True)
    action = pw.CharField(max_length=128)
    method = pw.CharField(max_length=8)
    path = pw.CharField(max_length=1000)
    object_type = pw.CharField(max_length=32, default="")
    object_id = pw.CharField(max_length=256, default="")
    status = pw.IntegerField()
    remote_addr = pw.CharField(max_length=64, default="")

    class Meta:
        table_name = "audit_log"
        indexes = ((("object_type", "object_id"), False),)


AUTH_TABLES = (
    User,
    ApiToken,
    ExperimentPermission,
    RegisteredModelPermission,
    ModelProtection,
    AuditEntry,
)
