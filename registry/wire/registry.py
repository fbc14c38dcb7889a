"""The model registry: registered models, versions, aliases and history (MLflow's, plus ours)."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, pre_load, validate

from registry.wire.base import (
    JSON,
    Entity,
    KeyValueSchema,
    RequestSchema,
    ResponseSchema,
    entity,
    wire,
)
from registry.wire.fields import BlankNone, IdString, Int64, KeyValues
from registry.wire.logged_models import LoggedModelInfo
from registry.wire.tracking import Dataset, DatasetInput, Metric, RunInfo

MAX_NAME_LENGTH = 256
MAX_TAG_KEY_LENGTH = 250
MAX_SOURCE_LENGTH = 1000
MAX_TEXT_LENGTH = 16000
"""Tag values and descriptions: what a MySQL TEXT column holds in utf8mb4, on every engine."""

# --- responses --------------------------------------------------------------------------------


@entity
class ModelVersion(Entity):
    """One version of a registered model (``status`` is always ``READY``)."""

    name: str = wire(fields.String())
    version: str = wire(IdString())
    creation_timestamp: int | None = wire(Int64(), default=None)
    last_updated_timestamp: int | None = wire(Int64(), default=None)
    user_id: str = wire(fields.String(), default="")
    current_stage: str = wire(fields.String(), default="None")
    description: str = wire(fields.String(), default="")
    source: str = wire(fields.String(), default="")
    run_id: str | None = wire(BlankNone(), default=None)
    status: str = wire(fields.String(), default="READY")
    run_link: str = wire(fields.String(), default="")
    status_message: str = wire(fields.String(), default="", omit="empty")
    tags: dict[str, str] = wire(KeyValues(), factory=dict, omit="empty")
    aliases: tuple[str, ...] = wire(fields.List(fields.String()), default=(), omit="empty")
    model_id: str | None = wire(fields.String(), default=None, omit="empty")


class AliasMap(fields.Field[dict[str, str]]):
    """A model's aliases: ``[{alias, version}]`` on the wire, ``{alias: version}`` in Python.

    Dumps a dict or ``(alias, version)`` pairs.
    """

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        items = value.items() if isinstance(value, dict) else value
        return [{"alias": alias, "version": str(version)} for alias, version in items]

    def _deserialize(
        self, value: Any, attr: str | None, data: Any, **kwargs: Any
    ) -> dict[str, str]:
        if not isinstance(value, list):
            raise ValidationError("Not a valid list.")
        return {item["alias"]: str(item["version"]) for item in value}


@entity
class RegisteredModel(Entity):
    """A registered model: its latest version per stage, tags, aliases (ours: exclusive_stages)."""

    name: str = wire(fields.String())
    creation_timestamp: int | None = wire(Int64(), default=None)
    last_updated_timestamp: int | None = wire(Int64(), default=None)
    user_id: str = wire(fields.String(), default="")
    description: str = wire(fields.String(), default="", omit="empty")
    latest_versions: tuple[ModelVersion, ...] = wire(
        fields.List(fields.Nested(ModelVersion.Schema)), default=(), omit="empty"
    )
    tags: dict[str, str] = wire(KeyValues(), factory=dict, omit="empty")
    aliases: dict[str, str] = wire(AliasMap(), factory=dict, omit="empty")
    exclusive_stages: bool = wire(fields.Boolean(), default=False)


@entity
class Transition(Entity):
    """Ours: one history entry of a registered model, a stage change or an alias move."""

    id: str = wire(IdString())
    name: str = wire(fields.String())
    version: str | None = wire(IdString(allow_none=True), default=None)
    kind: str = wire(fields.String(), default="")
    from_value: str | None = wire(fields.String(data_key="from", allow_none=True), default=None)
    to_value: str | None = wire(fields.String(data_key="to", allow_none=True), default=None)
    user_id: str = wire(fields.String(), default="")
    timestamp: int = wire(Int64(), default=0)
    comment: str = wire(fields.String(allow_none=True), default="")
    alias: str | None = wire(fields.String(), default=None, omit="none")
    rollback_of: str | None = wire(IdString(), default=None, omit="none")


class LineageDatasetSchema(Dataset.Schema):  # type: ignore[valid-type, misc]
    """Ours: a dataset of the run behind a version (without its schema and profile)."""

    entity = None

    class Meta(ResponseSchema.Meta):
        exclude = ("schema", "profile")


class LineageDatasetInputSchema(DatasetInput.Schema):  # type: ignore[valid-type, misc]
    """Ours: a dataset input of the run behind a version (``tags`` always present)."""

    entity = None
    dataset = fields.Nested(LineageDatasetSchema)
    tags = KeyValues()


class LineageRunSchema(RunInfo.Schema):  # type: ignore[valid-type, misc]
    """Ours: the run behind a version, its RunInfo flattened with its data and dataset inputs.

    Times are always present (null while unset), the lists even when empty.
    """

    entity = None
    start_time = Int64(allow_none=True)
    end_time = Int64(allow_none=True)
    params = KeyValues()
    metrics = fields.List(fields.Nested(Metric.Schema))
    tags = KeyValues()
    dataset_inputs = fields.List(fields.Nested(LineageDatasetInputSchema))

    class Meta(ResponseSchema.Meta):
        exclude = ("run_uuid",)


class LineageLoggedModelSchema(LoggedModelInfo.Schema):  # type: ignore[valid-type, misc]
    """Ours: the logged model behind a version (its info, less timestamps, type and message).

    ``source_run_id`` is "" when it has none, ``tags`` present even when empty.
    """

    entity = None
    source_run_id = BlankNone()
    tags = KeyValues()

    class Meta(ResponseSchema.Meta):
        exclude = (
            "creation_timestamp_ms",
            "last_updated_timestamp_ms",
            "model_type",
            "status_message",
        )


@entity
class VersionLineage(Entity):
    """Ours: where a version came from: its run, logged model, git commit, source and user.

    ``run`` and ``logged_model`` stay JSON objects on the client.
    """

    model_version: ModelVersion = wire(fields.Nested(ModelVersion.Schema))
    run: JSON | None = wire(fields.Dict(metadata={"schema": LineageRunSchema}), default=None)
    git_commit: str = wire(fields.String(), default="")
    source_name: str = wire(fields.String(), default="")
    user: str = wire(fields.String(), default="")
    logged_model: JSON | None = wire(
        fields.Dict(metadata={"schema": LineageLoggedModelSchema}), default=None
    )


# --- requests ---------------------------------------------------------------------------------

_NAME = validate.And(
    validate.Length(min=1, max=MAX_NAME_LENGTH),
    validate.Regexp(r"^[^/]*$", error="Model names must not contain '/'."),
)


class RegistryRequestSchema(RequestSchema):
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


class VersionSetTagSchema(SetTagSchema, VersionSchema):
    """``model-versions/set-tag``: a model's set-tag, naming a version."""


class VersionDeleteTagSchema(DeleteTagSchema, VersionSchema):
    """``model-versions/delete-tag``: a model's delete-tag, naming a version."""


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
