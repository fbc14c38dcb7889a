"""Request schemas and response dumpers for experiments, runs and metrics.

Responses are built by plain functions rather than marshmallow ``dump``: a page of 1000 runs
holds tens of thousands of small objects, and this is the hot path of ``runs/search``.
"""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, post_load, pre_load

from registry.schemas.common import Double, IdString, Int64, KeyValueSchema, StrictSchema
from registry.schemas.common import double_to_json as _double
from registry.store.datasets import dataset_input_tags
from registry.store.experiments import ExperimentRecord
from registry.store.metrics import logged_value as _joined
from registry.store.models import Metric, Run
from registry.store.runs import RunRecord
from registry.store.validation import validate_batch_sizes

JSON = dict[str, Any]
_VIEW_TYPES = {"1": "ACTIVE_ONLY", "2": "DELETED_ONLY", "3": "ALL"}
_RUN_STATUSES = {"1": "RUNNING", "2": "SCHEDULED", "3": "FINISHED", "4": "FAILED", "5": "KILLED"}


class EnumName(fields.String):
    """A proto enum given by name, or by number as the client may send it."""

    def __init__(self, numbers: dict[str, str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.numbers = numbers

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        text = str(super()._deserialize(value, attr, data, **kwargs))
        name = self.numbers.get(text, text.upper())
        if name not in self.numbers.values():
            raise ValidationError(
                f"Invalid value {text!r}: use one of {sorted(self.numbers.values())}."
            )
        return name


def to_dict(pairs: list[dict[str, str]] | None) -> dict[str, str]:
    """``[{key, value}]`` as a dict (the last value of a repeated key wins)."""
    return {pair["key"]: pair["value"] for pair in pairs or []}


# --- requests ---------------------------------------------------------------------------------


class ExperimentCreateSchema(StrictSchema):
    """POST experiments/create."""

    name = fields.String(required=True)
    artifact_location = fields.String(load_default=None)
    tags = fields.List(fields.Nested(KeyValueSchema), load_default=list)


class ExperimentIdSchema(StrictSchema):
    """Any request naming one experiment by id."""

    experiment_id = IdString(required=True)


class ExperimentByNameSchema(StrictSchema):
    """GET experiments/get-by-name."""

    experiment_name = fields.String(required=True)


class ExperimentUpdateSchema(ExperimentIdSchema):
    """POST experiments/update."""

    new_name = fields.String(required=True)


class ExperimentTagSchema(ExperimentIdSchema):
    """POST experiments/set-experiment-tag."""

    key = fields.String(required=True)
    value = fields.String(required=True)


class ExperimentTagDeleteSchema(ExperimentIdSchema):
    """POST experiments/delete-experiment-tag."""

    key = fields.String(required=True)


class ExperimentSearchArgsSchema(StrictSchema):
    """POST or GET experiments/search."""

    max_results = Int64(load_default=1000)
    page_token = fields.String(load_default=None)
    filter = fields.String(load_default=None)
    order_by = fields.List(fields.String(), load_default=list)
    view_type = EnumName(_VIEW_TYPES, load_default="ACTIVE_ONLY")


class RunIdSchema(StrictSchema):
    """A request naming one run by ``run_id`` or its deprecated copy ``run_uuid``."""

    run_id = fields.String(load_default=None)
    run_uuid = fields.String(load_default=None)

    @post_load
    def _one_run_id(self, data: JSON, **_kwargs: Any) -> JSON:
        run_id = data.pop("run_id", None) or data.pop("run_uuid", None)
        data.pop("run_uuid", None)
        if not run_id:
            raise ValidationError({"run_id": ["Missing data for required field."]})
        data["run_id"] = run_id
        return data


class RunCreateSchema(StrictSchema):
    """POST runs/create."""

    experiment_id = IdString(load_default="0")
    user_id = fields.String(load_default="")
    run_name = fields.String(load_default=None)
    start_time = Int64(load_default=None)
    tags = fields.List(fields.Nested(KeyValueSchema), load_default=list)


class RunUpdateSchema(RunIdSchema):
    """POST runs/update."""

    status = EnumName(_RUN_STATUSES, load_default=None)
    end_time = Int64(load_default=None)
    run_name = fields.String(load_default=None)


class RunSearchArgsSchema(StrictSchema):
    """POST runs/search."""

    experiment_ids = fields.List(IdString(), load_default=list)
    filter = fields.String(load_default=None)
    run_view_type = EnumName(_VIEW_TYPES, load_default="ACTIVE_ONLY")
    max_results = Int64(load_default=1000)
    order_by = fields.List(fields.String(), load_default=list)
    page_token = fields.String(load_default=None)


class MetricSchema(StrictSchema):
    """One metric point of log-metric or log-batch."""

    key = fields.String(required=True)
    value = Double(required=True)
    timestamp = Int64(required=True)
    step = Int64(load_default=0)
    model_id = fields.String(load_default=None)
    dataset_name = fields.String(load_default=None)
    dataset_digest = fields.String(load_default=None)


_DOUBLE = Double()
_INT64 = Int64()
_OPTIONAL_TEXT = ("model_id", "dataset_name", "dataset_digest")


class MetricList(fields.Field[list[dict[str, Any]]]):
    """log-batch's metrics, checked in plain Python.

    Loading 1000 points through a nested schema costs more than storing them; this accepts
    exactly what ``MetricSchema`` accepts.
    """

    def _deserialize(
        self, value: Any, attr: str | None, data: Any, **kwargs: Any
    ) -> list[dict[str, Any]]:
        if not isinstance(value, list):
            raise ValidationError("Not a valid list.")
        return [_load_metric(index, item) for index, item in enumerate(value)]


def _load_metric(index: int, item: Any) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise ValidationError({index: ["Not a valid metric object."]})
    key = item.get("key")
    if not isinstance(key, str):
        raise ValidationError({index: {"key": ["Missing or not a string."]}})
    if "value" not in item or "timestamp" not in item:
        raise ValidationError({index: ["value and timestamp are required."]})
    try:
        metric = {
            "key": key,
            "value": _DOUBLE.deserialize(item["value"]),
            "timestamp": _INT64.deserialize(item["timestamp"]),
            "step": _INT64.deserialize(item.get("step") or 0),
        }
    except ValidationError as err:
        raise ValidationError({index: err.messages}) from None
    for name in _OPTIONAL_TEXT:
        text = item.get(name)
        if text is not None and not isinstance(text, str):
            raise ValidationError({index: {name: ["Not a valid string."]}})
        metric[name] = text
    return metric


class LogMetricSchema(RunIdSchema, MetricSchema):
    """POST runs/log-metric."""


class LogParamSchema(RunIdSchema):
    """POST runs/log-parameter."""

    key = fields.String(required=True)
    value = fields.String(required=True)


class SetTagSchema(LogParamSchema):
    """POST runs/set-tag."""


class DeleteTagSchema(RunIdSchema):
    """POST runs/delete-tag."""

    key = fields.String(required=True)


class LogBatchSchema(RunIdSchema):
    """POST runs/log-batch."""

    metrics = MetricList(load_default=list)
    params = fields.List(fields.Nested(KeyValueSchema), load_default=list)
    tags = fields.List(fields.Nested(KeyValueSchema), load_default=list)

    @pre_load
    def _count_entries(self, data: Any, **_kwargs: Any) -> Any:
        # Refuse an oversized batch by its list lengths, before a single entry is loaded.
        if isinstance(data, dict):
            validate_batch_sizes(
                *(_as_list(data.get(name)) for name in ("metrics", "params", "tags"))
            )
        return data


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


class LogModelSchema(RunIdSchema):
    """POST runs/log-model (MLflow 2 clients)."""

    model_json = fields.String(required=True)


class DatasetSchema(StrictSchema):
    """A dataset of log-inputs."""

    name = fields.String(required=True)
    digest = fields.String(required=True)
    source_type = fields.String(required=True)
    source = fields.String(required=True)
    schema = fields.String(load_default=None)
    profile = fields.String(load_default=None)


class DatasetInputSchema(StrictSchema):
    """A dataset with its input tags."""

    tags = fields.List(fields.Nested(KeyValueSchema), load_default=list)
    dataset = fields.Nested(DatasetSchema, required=True)


class ModelIdSchema(StrictSchema):
    """``{model_id}``."""

    model_id = fields.String(required=True)


class ModelOutputSchema(ModelIdSchema):
    """``{model_id, step}`` of runs/outputs."""

    step = Int64(required=True)


class LogInputsSchema(RunIdSchema):
    """POST runs/log-inputs."""

    datasets = fields.List(fields.Nested(DatasetInputSchema), load_default=list)
    models = fields.List(fields.Nested(ModelIdSchema), load_default=list)


class LogOutputsSchema(RunIdSchema):
    """POST runs/outputs."""

    models = fields.List(fields.Nested(ModelOutputSchema), required=True)


class MetricHistorySchema(RunIdSchema):
    """GET metrics/get-history."""

    metric_key = fields.String(required=True)
    page_token = fields.String(load_default=None)
    max_results = Int64(load_default=None)


class BulkIntervalSchema(StrictSchema):
    """GET metrics/get-history-bulk-interval."""

    run_ids = fields.List(fields.String(), load_default=list)
    metric_key = fields.String(required=True)
    start_step = Int64(load_default=None)
    end_step = Int64(load_default=None)
    max_results = Int64(load_default=None)


class ListArtifactsSchema(RunIdSchema):
    """GET artifacts/list."""

    path = fields.String(load_default="")
    page_token = fields.String(load_default=None)


# --- responses --------------------------------------------------------------------------------


def _pairs(rows: Any) -> list[dict[str, str]]:
    return [{"key": row.key, "value": row.value} for row in rows]


def dump_experiment(record: ExperimentRecord) -> JSON:
    """An Experiment as MLflow writes it."""
    exp = record.experiment
    body: JSON = {
        "experiment_id": str(exp.experiment_id),
        "name": exp.name,
        "artifact_location": exp.artifact_location,
        "lifecycle_stage": exp.lifecycle_stage,
        "last_update_time": exp.last_update_time,
        "creation_time": exp.creation_time,
    }
    if record.tags:
        body["tags"] = _pairs(record.tags)
    return body


def dump_run_info(run: Run) -> JSON:
    """A RunInfo (``end_time`` omitted while the run has none)."""
    info: JSON = {
        "run_id": run.run_uuid,
        "run_uuid": run.run_uuid,
        "run_name": run.name,
        "experiment_id": str(run.experiment_id),
        "user_id": run.user_id,
        "status": run.status,
        "start_time": run.start_time,
        "artifact_uri": run.artifact_uri,
        "lifecycle_stage": run.lifecycle_stage,
    }
    if run.start_time is None:
        del info["start_time"]
    if run.end_time is not None:
        info["end_time"] = run.end_time
    return info


def dump_metric(metric: Any, run_id: str | None = None) -> JSON:
    """A Metric from a history or latest-value row; extra fields only when set."""
    body: JSON = {
        "key": metric.key,
        "value": _double(_joined(metric.value, metric.value_kind)),
        "timestamp": metric.timestamp,
        "step": metric.step,
    }
    if isinstance(metric, Metric):
        for name in ("dataset_name", "dataset_digest", "model_id"):
            if getattr(metric, name):
                body[name] = getattr(metric, name)
    if run_id is not None:
        body["run_id"] = run_id
    return body


def dump_run(record: RunRecord) -> JSON:
    """A Run: info, data (latest metrics, params, tags), inputs and outputs."""
    data: JSON = {}
    if record.metrics:
        data["metrics"] = [dump_metric(m) for m in record.metrics]
    if record.params:
        data["params"] = _pairs(record.params)
    if record.tags:
        data["tags"] = _pairs(record.tags)
    inputs: JSON = {}
    if record.dataset_inputs:
        inputs["dataset_inputs"] = [_dump_dataset_input(row) for row in record.dataset_inputs]
    if record.model_inputs:
        inputs["model_inputs"] = [{"model_id": row.model_id} for row in record.model_inputs]
    body: JSON = {"info": dump_run_info(record.run), "data": data, "inputs": inputs}
    if record.model_outputs:
        outputs = [{"model_id": row.model_id, "step": row.step} for row in record.model_outputs]
        body["outputs"] = {"model_outputs": outputs}
    return body


def _dump_dataset_input(row: Any) -> JSON:
    dataset: JSON = {
        "name": row.name,
        "digest": row.digest,
        "source_type": row.source_type,
        "source": row.source,
    }
    if row.schema:
        dataset["schema"] = row.schema
    if row.profile:
        dataset["profile"] = row.profile
    body: JSON = {"dataset": dataset}
    tags = dataset_input_tags(row)
    if tags:
        body["tags"] = tags
    return body


def paged(name: str, items: list[JSON], token: str | None) -> JSON:
    """A listing body: the key omitted when empty, ``next_page_token`` only when more exist."""
    body: JSON = {}
    if items:
        body[name] = items
    if token:
        body["next_page_token"] = token
    return body
