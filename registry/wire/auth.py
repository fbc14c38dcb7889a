"""The auth API (MLflow's names and fields): request shapes and response bodies."""

from __future__ import annotations

from marshmallow import fields, validate

from registry.wire.base import RequestSchema as StrictSchema
from registry.wire.fields import IdString
from registry.wire.responses import body

SCOPES = ("read", "write", "admin")
"""Token scopes: ``read`` reads, ``write`` also edits and manages objects, ``admin`` also
reaches the admin endpoints (for an admin user)."""


class UsernameArgs(StrictSchema):
    """A username."""

    username = fields.String(required=True, validate=validate.Length(min=1, max=256))


class NewUserArgs(UsernameArgs):
    """A new user and their password."""

    password = fields.String(required=True)


class PasswordArgs(UsernameArgs):
    """A new password (and the current one, for self-service)."""

    password = fields.String(required=True)
    current_password = fields.String(load_default=None)


class AdminArgs(UsernameArgs):
    """Whether a user is an admin."""

    is_admin = fields.Boolean(required=True)


class ExperimentGrantArgs(UsernameArgs):
    """A user's level on an experiment."""

    experiment_id = IdString(required=True)
    permission = fields.String(load_default=None)


class ModelGrantArgs(UsernameArgs):
    """A user's level on a registered model."""

    name = fields.String(required=True)
    permission = fields.String(load_default=None)


class ResourceGrantArgs(UsernameArgs):
    """A user's level on an experiment or registered model (MLflow 3)."""

    resource_type = fields.String(
        required=True, validate=validate.OneOf(["experiment", "registered_model"])
    )
    resource_id = fields.String(required=True)
    permission = fields.String(load_default=None)


class NewTokenArgs(StrictSchema):
    """A token to create."""

    name = fields.String(load_default="", validate=validate.Length(max=256))
    scope = fields.String(load_default="write", validate=validate.OneOf(SCOPES))
    expires_in_days = fields.Integer(load_default=None, validate=validate.Range(min=1))
    username = fields.String(load_default=None)


class TokenIdArgs(StrictSchema):
    """A token by id."""

    id = fields.Integer(required=True)


class TokenListArgs(StrictSchema):
    """Whose tokens to list."""

    username = fields.String(load_default=None)


class AuditArgs(StrictSchema):
    """Filters and paging of the audit log."""

    username = fields.String(load_default=None)
    object_type = fields.String(load_default=None)
    object_id = fields.String(load_default=None)
    max_results = fields.Integer(load_default=100)
    page_token = fields.String(load_default=None)


class ModelNameArgs(StrictSchema):
    """A registered model by name."""

    name = fields.String(required=True)


class ProtectionArgs(ModelNameArgs):
    """The stages and aliases of a model that only MANAGE may move."""

    stages = fields.List(
        fields.String(validate=validate.OneOf(["Staging", "Production", "Archived", "None"])),
        load_default=list,
    )
    aliases = fields.List(
        fields.String(validate=validate.Length(min=1, max=256)), load_default=list
    )


USER = body("UserResponse", user=fields.Dict())
USERS = body("UsersResponse", users=fields.List(fields.Dict()))
EXPERIMENT_GRANT = body("ExperimentPermissionResponse", experiment_permission=fields.Dict())
MODEL_GRANT = body("ModelPermissionResponse", registered_model_permission=fields.Dict())
PROTECTIONS = body(
    "ProtectionsResponse",
    name=fields.String(),
    stages=fields.List(fields.String()),
    aliases=fields.List(fields.String()),
)
PERMISSION_CHECK = body("PermissionCheck", allowed=fields.Boolean(), permission=fields.String())
NEW_TOKEN = body("NewTokenResponse", token=fields.Dict(), secret=fields.String())
TOKENS = body("TokensResponse", tokens=fields.List(fields.Dict()))
REVOKED_TOKEN = body("RevokedToken", id=fields.Integer(), revoked=fields.Boolean())
AUDIT_PAGE = body("AuditPage", entries=fields.List(fields.Dict()), next_page_token=fields.String())
