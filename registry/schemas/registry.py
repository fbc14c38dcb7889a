"""Request schemas of the registry endpoints (MLflow's fields, plus ours where noted)."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, pre_load, validate

from registry.schemas.common import IdString, Int64, KeyValueSchema, StrictSchema

MAX_NAME_LENGTH = 256
MAX_TAG_KEY_LENGTH = 250
MAX_SOURCE_LENGTH = 1000
MAX_TEXT_LENGTH = 16000
"""Tag values and descriptions: what a MySQL TEXT column holds in utf8mb4, on every engine."""

_NAME = validate.And(
    validate.Length(min=1, max=MAX_NAME_LENGTH),
    validate.Regexp(r"^[^/]*$", error="Model names must not contain '/'."),
)


class RegistryRequestSchema(StrictSchema):
    """Base of the registry's request schemas: no string anywhere may hold a NUL byte.

    PostgreSQL cannot store NUL in text, so it is refused up front on every engine.
    """

    @pre_load
    def _refuse_nul(self, data: Any, **_kwargs: Any) -> Any:
        if _has_nul(data):
            raise ValidationError("Strings must not contain NUL bytes.")
        return data


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def _name(**kwargs: Any) -> fields.String:
    return fields.String(required=True, validate=_NAME, **kwargs)


def _text(**kwargs: Any) -> fields.String:
    return fields.String(validate=validate.Length(max=MAX_TEXT_LENGTH), **kwargs)


class TagSchema(KeyValueSchema):
    """A tag in a request: key 1..250 characters, value up to 16000."""

    key = fields.String(required=True, validate=validate.Length(min=1, max=MAX_TAG_KEY_LENGTH))
    value = _text(load_default="")


def _tags() -> fields.List[Any]:
    return fields.List(fields.Nested(TagSchema), load_default=list)


class RegisteredModelCreateSchema(RegistryRequestSchema):
    """``registered-models/create``; ``exclusive_stages`` is ours (default false)."""

    name = _name()
    tags = _tags()
    description = _text(load_default="")
    exclusive_stages = fields.Boolean(load_default=False)


class NameSchema(RegistryRequestSchema):
    """A request that names a registered model."""

    name = fields.String(required=True, validate=validate.Length(min=1))


class RenameSchema(NameSchema):
    """``registered-models/rename``."""

    new_name = _name()


class DescriptionSchema(NameSchema):
    """``registered-models/update``."""

    description = _text(load_default="")


class LatestVersionsSchema(NameSchema):
    """``registered-models/get-latest-versions``."""

    stages = fields.List(fields.String(), load_default=list)


class SetTagSchema(NameSchema):
    """``*/set-tag`` on a model."""

    key = fields.String(required=True, validate=validate.Length(min=1, max=MAX_TAG_KEY_LENGTH))
    value = _text(required=True)


class DeleteTagSchema(NameSchema):
    """``*/delete-tag`` on a model."""

    key = fields.String(required=True)


class SearchSchema(RegistryRequestSchema):
    """``registered-models/search`` and ``model-versions/search``."""

    filter = fields.String(load_default="")
    max_results = Int64(load_default=None)
    order_by = fields.List(fields.String(), load_default=list)
    page_token = fields.String(load_default="")


class AliasSchema(NameSchema):
    """``registered-models/alias`` (GET, DELETE)."""

    alias = fields.String(required=True)
    comment = _text(load_default="")


class SetAliasSchema(AliasSchema):
    """``registered-models/alias`` (POST)."""

    version = IdString(required=True)


class VersionSchema(NameSchema):
    """A request that names one version."""

    version = IdString(required=True)


class VersionCreateSchema(NameSchema):
    """``model-versions/create``."""

    source = fields.String(required=True, validate=validate.Length(max=MAX_SOURCE_LENGTH))
    run_id = fields.String(load_default="")
    tags = _tags()
    run_link = fields.String(load_default="", validate=validate.Length(max=MAX_SOURCE_LENGTH))
    description = _text(load_default="")
    model_id = fields.String(load_default="", validate=validate.Length(max=64))


class VersionDescriptionSchema(VersionSchema):
    """``model-versions/update``."""

    description = _text(load_default="")


class TransitionSchema(VersionSchema):
    """``model-versions/transition-stage`` (``comment`` is ours)."""

    stage = fields.String(required=True)
    archive_existing_versions = fields.Boolean(load_default=False)
    comment = _text(load_default="")


class VersionSetTagSchema(VersionSchema):
    """``model-versions/set-tag``."""

    key = fields.String(required=True, validate=validate.Length(min=1, max=MAX_TAG_KEY_LENGTH))
    value = _text(required=True)


class VersionDeleteTagSchema(VersionSchema):
    """``model-versions/delete-tag``."""

    key = fields.String(required=True)


class ExclusiveStagesSchema(NameSchema):
    """Ours: turn the one-holder rule for Staging/Production on or off."""

    exclusive_stages = fields.Boolean(required=True)


class HistorySchema(NameSchema):
    """Ours: a model's history, newest first."""

    version = IdString(load_default=None)
    max_results = Int64(load_default=100)
    page_token = fields.String(load_default="")


class HolderSchema(NameSchema):
    """Ours: which version held a stage or alias at a time (ms; default now)."""

    stage = fields.String(load_default="")
    alias = fields.String(load_default="")
    at = Int64(load_default=None)


class RollbackSchema(NameSchema):
    """Ours: give a stage or alias back to its previous holder."""

    stage = fields.String(load_default="")
    alias = fields.String(load_default="")
    comment = _text(load_default="")


class RunIdSchema(RegistryRequestSchema):
    """Ours: the versions registered from one run."""

    run_id = fields.String(required=True, validate=validate.Length(min=1, max=32))


def tag_pairs(tags: list[dict[str, str]]) -> list[tuple[str, str]]:
    """``[{key, value}]`` from a request as ``(key, value)`` pairs."""
    return [(tag["key"], tag["value"]) for tag in tags]
