"""Request shapes of the auth API (MLflow's names and fields), declared once."""

from __future__ import annotations

from marshmallow import fields, validate

from registry.auth.levels import SCOPES
from registry.schemas.common import IdString, StrictSchema


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
