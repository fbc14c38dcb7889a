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

from marshmallow import Schema, ValidationError, fields, validates_schema

from registry.wire.fields import Double

_STRINGS = fields.Dict(keys=fields.String(), values=fields.String(), load_default=dict)


class _Column(fields.List[Any]):
    """A list of numbers, checked in one pass when every item is already of its type.

    A run's history is hundreds of thousands of numbers: checking them one field call each
    took most of an import's time. Anything else goes through the item field as usual.
    """

    plain: tuple[type, ...] = ()

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, list) and all(type(item) in self.plain for item in value):
            return list(value)
        return super()._deserialize(value, attr, data, **kwargs)

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        if value is not None and all(type(i) in self.plain and math.isfinite(i) for i in value):
            return list(value)
        return super()._serialize(value, attr, obj, **kwargs)


class IntColumn(_Column):
    """A list of int64s."""

    plain = (int,)

    def __init__(self, **kwargs: Any) -> None:
        """A list of ``fields.Integer``."""
        super().__init__(fields.Integer(), **kwargs)


class DoubleColumn(_Column):
    """A list of doubles; non-finite ones are "NaN", "Infinity" or "-Infinity"."""

    plain = (float,)

    def __init__(self, **kwargs: Any) -> None:
        """A list of ``Double``."""
        super().__init__(Double(), **kwargs)


class ExperimentSchema(Schema):
    """An experiment under its own id, with its tags."""

    experiment_id = fields.Integer(required=True)
    name = fields.String(required=True)
    artifact_location = fields.String(load_default="")
    lifecycle_stage = fields.String(load_default="active")
    creation_time = fields.Integer(allow_none=True, load_default=None)
    last_update_time = fields.Integer(allow_none=True, load_default=None)
    tags = _STRINGS


class ExperimentsSchema(Schema):
    """Experiments (the held ones in an answer)."""

    experiments = fields.List(fields.Nested(ExperimentSchema), required=True)


class ExperimentIdsSchema(Schema):
    """Experiment ids to look up (all when absent)."""

    experiment_ids = fields.List(fields.Integer(), allow_none=True, load_default=None)


class WrittenSchema(Schema):
    """What a write landed: how many entities, in one transaction."""

    written = fields.Integer(required=True)


class MetricSeriesSchema(Schema):
    """Every point of one metric key of a run, as columns of equal length."""

    key = fields.String(required=True)
    steps = IntColumn(required=True)
    timestamps = IntColumn(required=True)
    values = DoubleColumn(required=True)
    model_ids = fields.List(fields.String(allow_none=True), load_default=None)
    dataset_names = fields.List(fields.String(allow_none=True), load_default=None)
    dataset_digests = fields.List(fields.String(allow_none=True), load_default=None)

    @validates_schema
    def _same_length(self, data: dict[str, Any], **kwargs: Any) -> None:
        size = len(data["steps"])
        columns = ("timestamps", "values", "model_ids", "dataset_names", "dataset_digests")
        if any(data.get(c) is not None and len(data[c]) != size for c in columns):
            raise ValidationError("Every column of a metric series must have the same length.")


class DatasetInputSchema(Schema):
    """A dataset a run used, with its input tags."""

    name = fields.String(required=True)
    digest = fields.String(required=True)
    source_type = fields.String(required=True)
    source = fields.String(required=True)
    schema = fields.String(allow_none=True, load_default=None)
    profile = fields.String(allow_none=True, load_default=None)
    tags = _STRINGS


class ModelOutputSchema(Schema):
    """A logged model a run produced, at a step."""

    model_id = fields.String(required=True)
    step = fields.Integer(load_default=0)


class RunSchema(Schema):
    """A whole run under its own id: row, params, tags, metric history, inputs and outputs."""

    run_id = fields.String(required=True)
    experiment_id = fields.Integer(required=True)
    name = fields.String(load_default="")
    user_id = fields.String(load_default="")
    status = fields.String(load_default="RUNNING")
    start_time = fields.Integer(allow_none=True, load_default=None)
    end_time = fields.Integer(allow_none=True, load_default=None)
    lifecycle_stage = fields.String(load_default="active")
    artifact_uri = fields.String(load_default="")
    deleted_time = fields.Integer(allow_none=True, load_default=None)
    params = _STRINGS
    tags = _STRINGS
    metrics = fields.List(fields.Nested(MetricSeriesSchema), load_default=list)
    datasets = fields.List(fields.Nested(DatasetInputSchema), load_default=list)
    model_inputs = fields.List(fields.String(), load_default=list)
    model_outputs = fields.List(fields.Nested(ModelOutputSchema), load_default=list)


class RunsSchema(Schema):
    """Runs to write in one transaction."""

    runs = fields.List(fields.Nested(RunSchema), required=True)


class RunIdsSchema(Schema):
    """Run ids to look up."""

    run_ids = fields.List(fields.String(), required=True)


class RunIdSchema(Schema):
    """One run to read back whole."""

    run_id = fields.String(required=True)


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
    points = fields.Integer(required=True)
    last_timestamp = fields.Integer(allow_none=True, load_default=None)
    inputs = fields.Integer(required=True)


class RunSummariesSchema(Schema):
    """The summaries of the held runs, by run id."""

    summaries = fields.Dict(
        keys=fields.String(), values=fields.Nested(RunSummarySchema), required=True
    )


class LoggedModelSchema(Schema):
    """An MLflow 3 logged model under its own id, with params and tags."""

    model_id = fields.String(required=True)
    experiment_id = fields.Integer(required=True)
    name = fields.String(required=True)
    model_type = fields.String(load_default="")
    source_run_id = fields.String(allow_none=True, load_default=None)
    status = fields.String(load_default="LOGGED_MODEL_READY")
    status_message = fields.String(load_default="")
    artifact_uri = fields.String(load_default="")
    lifecycle_stage = fields.String(load_default="active")
    creation_timestamp_ms = fields.Integer(required=True)
    last_updated_timestamp_ms = fields.Integer(required=True)
    params = _STRINGS
    tags = _STRINGS


class ModelIdsSchema(Schema):
    """Logged model ids to look up."""

    model_ids = fields.List(fields.String(), required=True)


class LoggedModelsSchema(Schema):
    """Logged models held."""

    logged_models = fields.List(fields.Nested(LoggedModelSchema), required=True)


class RegisteredModelSchema(Schema):
    """A registered model with its tags and aliases (alias name -> version number)."""

    name = fields.String(required=True)
    description = fields.String(load_default="")
    creation_timestamp = fields.Integer(required=True)
    last_updated_timestamp = fields.Integer(required=True)
    tags = _STRINGS
    aliases = fields.Dict(keys=fields.String(), values=fields.Integer(), load_default=dict)


class NamesSchema(Schema):
    """Registered model names to look up."""

    names = fields.List(fields.String(), required=True)


class RegisteredModelsSchema(Schema):
    """Registered models held."""

    registered_models = fields.List(fields.Nested(RegisteredModelSchema), required=True)


class ModelVersionSchema(Schema):
    """A model version under its own number (a deleted one as a tombstone)."""

    name = fields.String(required=True)
    version = fields.Integer(required=True)
    description = fields.String(load_default="")
    user_id = fields.String(load_default="")
    creation_timestamp = fields.Integer(required=True)
    last_updated_timestamp = fields.Integer(required=True)
    current_stage = fields.String(load_default="None")
    source = fields.String(load_default="")
    run_id = fields.String(allow_none=True, load_default=None)
    run_link = fields.String(load_default="")
    model_id = fields.String(allow_none=True, load_default=None)
    status = fields.String(load_default="READY")
    status_message = fields.String(load_default="")
    tags = _STRINGS


class NameSchema(Schema):
    """One registered model."""

    name = fields.String(required=True)


class ModelVersionsSchema(Schema):
    """Model versions held."""

    model_versions = fields.List(fields.Nested(ModelVersionSchema), required=True)


class AliasesSchema(Schema):
    """A model's aliases as they must be, and the time their history entries carry."""

    name = fields.String(required=True)
    aliases = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    timestamp = fields.Integer(required=True)


class VersionRefSchema(Schema):
    """One version of one registered model."""

    name = fields.String(required=True)
    version = fields.Integer(required=True)


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
