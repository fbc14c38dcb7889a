"""Migration 5: users, API tokens, experiment and model permissions, protections, the audit log.

The model classes below are a frozen copy of ``registry/store/auth_models.py`` as it stood when
this migration was written (peewee's rule for migrations). ``experiments`` and
``registered_models`` appear only as far as the foreign keys need them; they are not created
here. The new tables are made and dropped with peewee's ``create_tables``/``drop_tables``
(``playhouse.migrate`` has no create-table operation).
"""

from __future__ import annotations

import peewee as pw

_proxy = pw.DatabaseProxy()


class BaseModel(pw.Model):
    class Meta:
        database = _proxy
        legacy_table_names = False


class Experiment(BaseModel):
    experiment_id = pw.AutoField()

    class Meta:
        table_name = "experiments"


class RegisteredModel(BaseModel):
    id = pw.AutoField()

    class Meta:
        table_name = "registered_models"


class User(BaseModel):
    id = pw.AutoField()
    username = pw.CharField(max_length=256, unique=True)
    password_hash = pw.CharField(max_length=255, null=True)
    is_admin = pw.BooleanField(default=False)
    is_service_account = pw.BooleanField(default=False)
    created_at = pw.BigIntegerField()

    class Meta:
        table_name = "users"


class ApiToken(BaseModel):
    id = pw.AutoField()
    user = pw.ForeignKeyField(User, on_delete="CASCADE")
    name = pw.CharField(max_length=256, default="")
    lookup = pw.CharField(max_length=32, unique=True)
    secret_hash = pw.CharField(max_length=64)
    scope = pw.CharField(max_length=16)
    created_at = pw.BigIntegerField()
    expires_at = pw.BigIntegerField(null=True)
    revoked_at = pw.BigIntegerField(null=True)

    class Meta:
        table_name = "api_tokens"


class ExperimentPermission(BaseModel):
    experiment = pw.ForeignKeyField(Experiment, on_delete="CASCADE")
    user = pw.ForeignKeyField(User, on_delete="CASCADE")
    permission = pw.CharField(max_length=32)

    class Meta:
        table_name = "experiment_permissions"
        primary_key = pw.CompositeKey("experiment", "user")


class RegisteredModelPermission(BaseModel):
    registered_model = pw.ForeignKeyField(RegisteredModel, on_delete="CASCADE")
    user = pw.ForeignKeyField(User, on_delete="CASCADE")
    permission = pw.CharField(max_length=32)

    class Meta:
        table_name = "registered_model_permissions"
        primary_key = pw.CompositeKey("registered_model", "user")


class ModelProtection(BaseModel):
    registered_model = pw.ForeignKeyField(RegisteredModel, on_delete="CASCADE")
    kind = pw.CharField(max_length=8)
    value = pw.CharField(max_length=256)

    class Meta:
        table_name = "registered_model_protections"
        primary_key = pw.CompositeKey("registered_model", "kind", "value")


class AuditEntry(BaseModel):
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


FROZEN = (
    User,
    ApiToken,
    ExperimentPermission,
    RegisteredModelPermission,
    ModelProtection,
    AuditEntry,
)


def up(database: pw.Database) -> None:
    """Create the tables."""
    _proxy.initialize(database)
    database.create_tables(FROZEN, safe=True)


def down(database: pw.Database) -> None:
    """Drop the tables."""
    _proxy.initialize(database)
    database.drop_tables(FROZEN, safe=True, cascade=isinstance(database, pw.PostgresqlDatabase))
