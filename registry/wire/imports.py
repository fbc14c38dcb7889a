"""Wire shapes of the import endpoints (``/api/2.0/modelyard/imports/...``).

``modelyard import mlflow --to http://...`` sends the source's entities with their own ids and
times; the server writes them with the store's import functions. A run's metric history travels
as columns per key (``steps``, ``timestamps``, ``values``): a long history is a few lists, not
one object per point. Non-finite values are the strings ``"NaN"``, ``"Infinity"`` and
``"-Infinity"``, as everywhere in the API.
"""

from __future__ import annotations

import math
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from registry.wire.fields import Double

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
_INT64 = validate.Range(min=INT64_MIN, max=INT64_MAX)
_VERSION = validate.Range(min=1, max=2**31 - 1)  # an INTEGER column on every backend
LIFECYCLE_STAGES = ("active", "deleted")
RUN_STATUSES = ("RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED")
TOMBSTONE_STAGE = "Deleted_Internal"
"""The stage of a deleted version's tombstone (its number stays taken)."""
VERSION_STAGES = ("None", "Staging", "Production", "Archived", TOMBSTONE_STAGE)
VERSION_STATUSES = ("PENDING_REGISTRATION", "FAILED_REGISTRATION", "READY")


def _int(**kwargs: Any) -> fields.Integer:
    return fields.Integer(validate=_INT64, **kwargs)


def _text(size: int, **kwargs: Any) -> fields.String:
    """A string that fits its column of ``size`` characters (``registry.store.models``)."""
    return fields.String(validate=validate.Length(max=size), **kwargs)


def _one_of(choices: tuple[str, ...], **kwargs: Any) -> fields.String:
    return fields.String(validate=validate.OneOf(choices), **kwargs)


def _strings(key_size: int = 250) -> fields.Dict:
    return fields.Dict(keys=_text(key_size), values=fields.String(), load_default=dict)


_STRINGS = _strings()


class _Column(fields.List[Any]):
    """A list of numbers, checked in one pass when every item is already of its type.

    A run's history is hundreds of thousands of numbers: checking them one field call each
    took most of an import's time. Anything else goes through the item field as usual.
    """

    plain: tuple[type, ...] = ()

    def _fits(self, item: Any) -> bool:
        return type(item) in self.plain

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, list) and all(self._fits(item) for item in value):
            return list(value)
        return super()._deserialize(value, attr, data, **kwargs)

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        if value is not None and all(type(i) in self.plain and math.isfinite(i) for i in value):
            return list(value)
        return super()._serialize(value, attr, obj, **kwargs)


class IntColumn(_Column):
    """A list of int64s."""

    plain = (int,)

    def _fits(self, item: Any) -> bool:
        return type(item) is int and INT64_MIN <= item <= INT64_MAX

    def __init__(self, **kwargs: Any) -> None:
        """A list of int64 ``fields.Integer``."""
        super().__init__(fields.Integer(validate=_INT64), **kwargs)


class DoubleColumn(_Column):
    """A list of doubles; non-finite ones are "NaN", "Infinity" or "-Infinity"."""

    plain = (float,)

    def __init__(self, **kwargs: Any) -> None:
        """A list of ``Double``."""
        super().__init__(Double(), **kwargs)


class ExperimentSchema(Schema):
    """An experiment under its own id, with its tags."""

    experiment_id = _int(required=True)
    name = _text(256, required=True)
    artifact_location = _text(1000, load_default="")
    lifecycle_stage = _one_of(LIFECYCLE_STAGES, load_default="active")
    creation_time = _int(allow_none=True, load_default=None)
    last_update_time = _int(allow_none=True, load_default=None)
    tags = _STRINGS


class ExperimentsSchema(Schema):
    """Experiments (the held ones in an answer)."""

    experiments = fields.List(fields.Nested(ExperimentSchema), required=True)


class ExperimentIdsSchema(Schema):
    """Experiment ids to look up (all when absent)."""

    experiment_ids = fields.List(_int(), allow_none=True, load_default=None)


class WrittenSchema(Schema):
    """What a write landed: how many entities, in one transaction."""

    written = _int(required=True)


class MetricSeriesSchema(Schema):
    """Every point of one metric key of a run, as columns of equal length."""

    key = _text(250, required=True)
    steps = IntColumn(required=True)
    timestamps = IntColumn(required=True)
    values = DoubleColumn(required=True)
    model_ids = fields.List(_text(64, allow_none=True), load_default=None)
    dataset_names = fields.List(_text(500, allow_none=True), load_default=None)
    dataset_digests = fields.List(_text(64, allow_none=True), load_default=None)

    @validates_schema
    def _same_length(self, data: dict[str, Any], **kwargs: Any) -> None:
        size = len(data["steps"])
        columns = ("timestamps", "values", "model_ids", "dataset_names", "dataset_digests")
        if any(data.get(c) is not None and len(data[c]) != size for c in columns):
            raise ValidationError("Every column of a metric series must have the same length.")


class DatasetInputSchema(Schema):
    """A dataset a run used, with its input tags."""

    name = _text(500, required=True)
    digest = _text(64, required=True)
    source_type = _text(64, required=True)
    source = fields.String(required=True)
    schema = fields.String(allow_none=True, load_default=None)
    profile = fields.String(allow_none=True, load_default=None)
    tags = _STRINGS


class ModelOutputSchema(Schema):
    """A logged model a run produced, at a step."""

    model_id = _text(64, required=True)
    step = _int(load_default=0)


class RunSchema(Schema):
    """A whole run under its own id: row, params, tags, metric history, inputs and outputs."""

    run_id = _text(32, required=True)
    experiment_id = _int(required=True)
    name = _text(250, load_default="")
    user_id = _text(256, load_default="")
    status = _one_of(RUN_STATUSES, load_default="RUNNING")
    start_time = _int(allow_none=True, load_default=None)
    end_time = _int(allow_none=True, load_default=None)
    lifecycle_stage = _one_of(LIFECYCLE_STAGES, load_default="active")
    artifact_uri = _text(1000, load_default="")
    deleted_time = _int(allow_none=True, load_default=None)
    params = _STRINGS
    tags = _STRINGS
    metrics = fields.List(fields.Nested(MetricSeriesSchema), load_default=list)
    datasets = fields.List(fields.Nested(DatasetInputSchema), load_default=list)
    model_inputs = fields.List(_text(64), load_default=list)
    model_outputs = fields.List(fields.Nested(ModelOutputSchema), load_default=list)


class RunsSchema(Schema):
    """Runs to write in one transaction."""

    runs = fields.List(fields.Nested(RunSchema), required=True)


class RunIdsSchema(Schema):
    """Run ids to look up."""

    run_ids = fields.List(_text(32), required=True)


class RunIdSchema(Schema):
    """One run to read back whole."""

    run_id = _text(32, required=True)


class RunAnswerSchema(Schema):
    """One run as held (absent: ``run`` is null)."""

    run = fields.Nested(RunSchema, allow_none=True)


class RunSummarySchema(Schema):
    """What decides whether a run changed: its row, params, tags and the size of its history.

    ``fields`` is the row: experiment id, name, user, status, start, end, lifecycle, deleted time.
    """

    fields_ = fields.List(fields.Raw(allow_none=True), data_key="fields", required=True)
    params = _STRINGS
    tags = _STRINGS
    points = _int(required=True)
    last_timestamp = _int(allow_none=True, load_default=None)
    inputs = _int(required=True)


class RunSummariesSchema(Schema):
    """The summaries of the held runs, by run id."""

    summaries = fields.Dict(
        keys=fields.String(), values=fields.Nested(RunSummarySchema), required=True
    )


class LoggedModelSchema(Schema):
    """An MLflow 3 logged model under its own id, with params and tags."""

    model_id = _text(64, required=True)
    experiment_id = _int(required=True)
    name = _text(500, required=True)
    model_type = _text(500, load_default="")
    source_run_id = _text(32, allow_none=True, load_default=None)
    status = _text(40, load_default="LOGGED_MODEL_READY")
    status_message = fields.String(load_default="")
    artifact_uri = _text(1000, load_default="")
    lifecycle_stage = _one_of(LIFECYCLE_STAGES, load_default="active")
    creation_timestamp_ms = _int(required=True)
    last_updated_timestamp_ms = _int(required=True)
    params = _STRINGS
    tags = _STRINGS


class ModelIdsSchema(Schema):
    """Logged model ids to look up."""

    model_ids = fields.List(_text(64), required=True)


class LoggedModelsSchema(Schema):
    """Logged models held."""

    logged_models = fields.List(fields.Nested(LoggedModelSchema), required=True)


class RegisteredModelSchema(Schema):
    """A registered model with its tags and aliases (alias name -> version number)."""

    name = _text(256, required=True)
    description = fields.String(load_default="")
    creation_timestamp = _int(required=True)
    last_updated_timestamp = _int(required=True)
    tags = _STRINGS
    aliases = fields.Dict(
        keys=_text(256), values=fields.Integer(validate=_VERSION), load_default=dict
    )


class NamesSchema(Schema):
    """Registered model names to look up."""

    names = fields.List(_text(256), required=True)


class RegisteredModelsSchema(Schema):
    """Registered models held."""

    registered_models = fields.List(fields.Nested(RegisteredModelSchema), required=True)


class ModelVersionSchema(Schema):
    """A model version under its own number (a deleted one as a tombstone)."""

    name = _text(256, required=True)
    version = fields.Integer(validate=_VERSION, required=True)
    description = fields.String(load_default="")
    user_id = _text(256, load_default="")
    creation_timestamp = _int(required=True)
    last_updated_timestamp = _int(required=True)
    current_stage = _one_of(VERSION_STAGES, load_default="None")
    source = _text(1000, load_default="")
    run_id = _text(32, allow_none=True, load_default=None)
    run_link = _text(1000, load_default="")
    model_id = _text(64, allow_none=True, load_default=None)
    status = _one_of(VERSION_STATUSES, load_default="READY")
    status_message = fields.String(load_default="")
    tags = _STRINGS


class NameSchema(Schema):
    """One registered model."""

    name = _text(256, required=True)


class ModelVersionsSchema(Schema):
    """Model versions held."""

    model_versions = fields.List(fields.Nested(ModelVersionSchema), required=True)


class AliasesSchema(Schema):
    """A model's aliases as they must be, and the time their history entries carry."""

    name = _text(256, required=True)
    aliases = fields.Dict(keys=_text(256), values=fields.Integer(validate=_VERSION), required=True)
    timestamp = _int(required=True)


class VersionRefSchema(Schema):
    """One version of one registered model."""

    name = _text(256, required=True)
    version = _int(required=True)


class DigestsSchema(Schema):
    """The versions left without a model digest (no model files where their source points)."""

    missing = fields.List(fields.Nested(VersionRefSchema), required=True)


OPERATIONS: dict[str, tuple[type[Schema], type[Schema]]] = {
    "imports.import_experiment": (ExperimentSchema, WrittenSchema),
    "imports.held_experiments": (ExperimentIdsSchema, ExperimentsSchema),
    "imports.import_runs": (RunsSchema, WrittenSchema),
    "imports.run_summaries": (RunIdsSchema, RunSummariesSchema),
    "imports.held_run": (RunIdSchema, RunAnswerSchema),
    "imports.import_logged_model": (LoggedModelSchema, WrittenSchema),
    "imports.held_logged_models": (ModelIdsSchema, LoggedModelsSchema),
    "imports.import_registered_model": (RegisteredModelSchema, WrittenSchema),
    "imports.held_registered_models": (NamesSchema, RegisteredModelsSchema),
    "imports.import_model_version": (ModelVersionSchema, WrittenSchema),
    "imports.held_model_versions": (NameSchema, ModelVersionsSchema),
    "imports.import_aliases": (AliasesSchema, WrittenSchema),
    "imports.record_digests": (NamesSchema, DigestsSchema),
}
"""Each import endpoint's (request, response) shapes, for the OpenAPI document."""
