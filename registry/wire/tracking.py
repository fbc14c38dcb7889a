"""Experiments, runs and metrics: MLflow's request and response shapes."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from itertools import repeat
from operator import itemgetter
from typing import Any, NamedTuple, overload

from marshmallow import ValidationError, fields, post_load

from registry.wire.base import JSON, Entity, KeyValueSchema, RequestSchema, entity, wire
from registry.wire.fields import INT64_MAX, INT64_MIN, Double, EnumName, IdString, Int64, KeyValues
from registry.wire.requests import entity_request

VIEW_TYPES = {"1": "ACTIVE_ONLY", "2": "DELETED_ONLY", "3": "ALL"}
RUN_STATUSES = {"1": "RUNNING", "2": "SCHEDULED", "3": "FINISHED", "4": "FAILED", "5": "KILLED"}


def _pairs() -> fields.List[Any]:
    return KeyValueList(fields.Nested(KeyValueSchema), load_default=list)


class KeyValueList(fields.List):  # type: ignore[type-arg]
    """``[{key, value}]`` of a request, loaded in plain Python when every entry is well formed.

    Anything else takes the nested schema's path, so a bad entry is refused exactly as
    ``KeyValueSchema`` refuses it (same messages, same error paths).
    """

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if type(value) is list:
            pairs = [_plain_pair(item) for item in value]
            if None not in pairs:
                return pairs
        return super()._deserialize(value, attr, data, **kwargs)


def _plain_pair(item: Any) -> dict[str, str] | None:
    if type(item) is not dict:
        return None
    key, text = item.get("key"), item.get("value", "")
    if type(key) is not str or type(text) is not str:
        return None
    return {"key": key, "value": text}


def to_dict(pairs: list[dict[str, str]] | None) -> dict[str, str]:
    """``[{key, value}]`` from a request as a dict (the last value of a repeated key wins)."""
    return {pair["key"]: pair["value"] for pair in pairs or []}


# --- responses --------------------------------------------------------------------------------


@entity
class Metric(Entity):
    """One metric point (``run_id`` only where a listing mixes runs)."""

    key: str = wire(fields.String())
    value: float = wire(Double())
    timestamp: int = wire(Int64(), default=0)
    step: int = wire(Int64(), default=0)
    dataset_name: str | None = wire(fields.String(), default=None, omit="empty", kw_only=True)
    dataset_digest: str | None = wire(fields.String(), default=None, omit="empty", kw_only=True)
    model_id: str | None = wire(fields.String(), default=None, omit="empty", kw_only=True)
    run_id: str | None = wire(fields.String(), default=None, omit="none", kw_only=True)


@entity
class Param(Entity):
    """One run parameter (values are strings, as in MLflow)."""

    key: str = wire(fields.String())
    value: str = wire(fields.String(), default="")


@entity
class RunTag(Entity):
    """One run tag."""

    key: str = wire(fields.String())
    value: str = wire(fields.String(), default="")


@entity
class Experiment(Entity):
    """An experiment."""

    experiment_id: str = wire(IdString())
    name: str = wire(fields.String(), default="")
    artifact_location: str = wire(fields.String(), default="")
    lifecycle_stage: str = wire(
        fields.String(metadata={"enum": ["active", "deleted"]}), default="active"
    )
    last_update_time: int | None = wire(Int64(), default=None)
    creation_time: int | None = wire(Int64(), default=None)
    tags: dict[str, str] = wire(KeyValues(), factory=dict, omit="empty")


_STATUS_ENUM = {"enum": list(RUN_STATUSES.values())}


@entity
class RunInfo(Entity):
    """A run's metadata (``run.info``); ``run_uuid`` is MLflow's deprecated copy of ``run_id``."""

    run_id: str = wire(fields.String())
    run_uuid: str = wire(fields.String(), default="")
    run_name: str = wire(fields.String(), default="")
    experiment_id: str = wire(IdString(), default="")
    user_id: str = wire(fields.String(), default="")
    status: str = wire(fields.String(metadata=_STATUS_ENUM), default="RUNNING")
    start_time: int | None = wire(Int64(allow_none=True), default=None, omit="none")
    artifact_uri: str = wire(fields.String(), default="")
    lifecycle_stage: str = wire(fields.String(), default="active")
    end_time: int | None = wire(Int64(allow_none=True), default=None, omit="none")


class MetricValues(fields.List):  # type: ignore[type-arg]
    """A run's latest metrics: a list of Metric on the wire, ``{key: value}`` in Python."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(fields.Nested(Metric.Schema), **kwargs)

    @staticmethod
    def prepare(value: Any) -> Any:
        """Points from a ``{key: value}`` dict (an entity's); other values as they are."""
        if isinstance(value, dict):
            return [Metric(key, number) for key, number in value.items()]
        return value

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        return super()._serialize(self.prepare(value), attr, obj, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        points: list[Any] = super()._deserialize(value, attr, data, **kwargs)
        return {m.key: m.value for m in points}


@entity
class RunData(Entity):
    """A run's latest metrics, params and tags as dicts (``run.data``)."""

    metrics: dict[str, float] = wire(MetricValues(), factory=dict, omit="empty")
    params: dict[str, str] = wire(KeyValues(), factory=dict, omit="empty")
    tags: dict[str, str] = wire(KeyValues(), factory=dict, omit="empty")


@entity
class Dataset(Entity):
    """A dataset a run consumed."""

    name: str = wire(fields.String())
    digest: str = wire(fields.String())
    source_type: str = wire(fields.String())
    source: str = wire(fields.String())
    schema: str | None = wire(fields.String(), default=None, omit="empty")
    profile: str | None = wire(fields.String(), default=None, omit="empty")


@entity
class DatasetInput(Entity):
    """A dataset with its input tags."""

    dataset: Dataset = wire(fields.Nested(Dataset.Schema))
    tags: dict[str, str] = wire(KeyValues(), factory=dict, omit="empty")


@entity
class ModelInput(Entity):
    """A logged model a run consumed."""

    model_id: str = wire(fields.String())


@entity
class ModelOutput(Entity):
    """A logged model a run produced, at a step."""

    model_id: str = wire(fields.String())
    step: int = wire(Int64(), default=0)


@entity
class RunInputs(Entity):
    """Datasets and models a run consumed."""

    dataset_inputs: tuple[DatasetInput, ...] = wire(
        fields.List(fields.Nested(DatasetInput.Schema)), default=(), omit="empty"
    )
    model_inputs: tuple[ModelInput, ...] = wire(
        fields.List(fields.Nested(ModelInput.Schema)), default=(), omit="empty"
    )


@entity
class RunOutputs(Entity):
    """Models a run produced."""

    model_outputs: tuple[ModelOutput, ...] = wire(
        fields.List(fields.Nested(ModelOutput.Schema)), default=(), omit="empty"
    )


@entity
class Run(Entity):
    """A run: ``run.info``, ``run.data``, ``run.inputs`` and ``run.outputs``."""

    info: RunInfo = wire(fields.Nested(RunInfo.Schema))
    data: RunData = wire(fields.Nested(RunData.Schema), factory=RunData)
    inputs: RunInputs = wire(fields.Nested(RunInputs.Schema), factory=RunInputs)
    outputs: RunOutputs = wire(fields.Nested(RunOutputs.Schema), factory=RunOutputs, omit="empty")

    @property
    def model_outputs(self) -> tuple[str, ...]:
        """The ids of the models the run logged."""
        return tuple(output.model_id for output in self.outputs.model_outputs)


# --- requests ---------------------------------------------------------------------------------


class ExperimentCreateSchema(RequestSchema):
    """POST experiments/create."""

    name = fields.String(required=True)
    artifact_location = fields.String(load_default=None)
    tags = _pairs()


class ExperimentIdSchema(RequestSchema):
    """Any request naming one experiment by id."""

    experiment_id = IdString(required=True)


class ExperimentByNameSchema(RequestSchema):
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


class ExperimentSearchArgsSchema(RequestSchema):
    """POST or GET experiments/search."""

    max_results = Int64(load_default=1000)
    page_token = fields.String(load_default=None)
    filter = fields.String(load_default=None)
    order_by = fields.List(fields.String(), load_default=list)
    view_type = EnumName(VIEW_TYPES, load_default="ACTIVE_ONLY")


class RunIdSchema(RequestSchema):
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


class RunCreateSchema(RequestSchema):
    """POST runs/create."""

    experiment_id = IdString(load_default="0")
    user_id = fields.String(load_default="")
    run_name = fields.String(load_default=None)
    start_time = Int64(load_default=None)
    tags = _pairs()


class RunUpdateSchema(RunIdSchema):
    """POST runs/update."""

    status = EnumName(RUN_STATUSES, load_default=None)
    end_time = Int64(load_default=None)
    run_name = fields.String(load_default=None)


class RunSearchArgsSchema(RequestSchema):
    """POST runs/search."""

    experiment_ids = fields.List(IdString(), load_default=list)
    filter = fields.String(load_default=None)
    run_view_type = EnumName(VIEW_TYPES, load_default="ACTIVE_ONLY")
    max_results = Int64(load_default=1000)
    order_by = fields.List(fields.String(), load_default=list)
    page_token = fields.String(load_default=None)


MetricSchema = entity_request(
    Metric,
    "MetricSchema",
    required=("key", "value", "timestamp"),
    optional={"step": 0, "model_id": None, "dataset_name": None, "dataset_digest": None},
    doc="One metric point of log-metric or log-batch.",
)


_DOUBLE = Double()
_INT64 = Int64()
_OPTIONAL_TEXT = ("model_id", "dataset_name", "dataset_digest")


class MetricPoint(NamedTuple):
    """One metric value as logged; ``value`` may be NaN or infinite.

    A named tuple: a log-batch with links builds a thousand of them per request (a plain one
    is read as ``MetricColumns``).
    """

    key: str
    value: float
    timestamp: int
    step: int = 0
    model_id: str | None = None
    dataset_name: str | None = None
    dataset_digest: str | None = None


_NO_LINKS: tuple[str | None, str | None, str | None] = (None, None, None)
_new_tuple = tuple.__new__
"""Builds a MetricPoint from a full tuple, skipping the NamedTuple's Python-level __new__."""


class MetricColumns(Sequence[MetricPoint]):
    """Points without links, held as four columns: what a plain log-batch decodes to.

    A batch of plain points is checked a column at a time and never builds its thousand
    ``MetricPoint``s: the store reads the columns. Indexing or iterating gives the points.
    Every key is a ``str``, every value a ``float`` (not always finite), every timestamp and
    step an ``int`` within int64; the links are all None.
    """

    __slots__ = ("keys", "steps", "timestamps", "values")

    def __init__(
        self,
        keys: Sequence[str],
        values: Sequence[float],
        timestamps: Sequence[int],
        steps: Sequence[int],
    ) -> None:
        self.keys = keys
        self.values = values
        self.timestamps = timestamps
        self.steps = steps

    def __len__(self) -> int:
        return len(self.keys)

    @overload
    def __getitem__(self, index: int) -> MetricPoint: ...

    @overload
    def __getitem__(self, index: slice) -> MetricColumns: ...

    def __getitem__(self, index: int | slice) -> MetricPoint | MetricColumns:
        if isinstance(index, slice):
            return MetricColumns(
                self.keys[index], self.values[index], self.timestamps[index], self.steps[index]
            )
        point = (self.keys[index], self.values[index], self.timestamps[index], self.steps[index])
        return _new_tuple(MetricPoint, (*point, *_NO_LINKS))

    def __iter__(self) -> Iterator[MetricPoint]:
        nones = repeat(None)
        columns = self.keys, self.values, self.timestamps, self.steps, nones, nones, nones
        return map(_new_tuple, repeat(MetricPoint), zip(*columns, strict=False))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, MetricColumns | list | tuple):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"MetricColumns({list(self)!r})"


class MetricList(fields.Field[Sequence[MetricPoint]]):
    """log-batch's metrics as ``MetricPoint``s, checked in plain Python.

    Loading 1000 points through a nested schema costs more than storing them; this accepts
    exactly what ``MetricSchema`` accepts. A batch of plain points without links loads as
    ``MetricColumns``; any other batch as a list.
    """

    def _deserialize(
        self, value: Any, attr: str | None, data: Any, **kwargs: Any
    ) -> Sequence[MetricPoint]:
        if not isinstance(value, list):
            raise ValidationError("Not a valid list.")
        columns = _load_columns(value)
        if columns is not None:
            return columns
        points: list[MetricPoint] = []
        index, size = 0, len(value)
        while index < size:
            # Runs of plain points in one tight loop; any other entry on its own, in place.
            index += _load_plain_points(value, index, points)
            if index < size:
                points.append(_load_metric(index, value[index]))
                index += 1
        return points


_ONLY_DICTS = frozenset({dict})
_ONLY_STRS = frozenset({str})
_ONLY_FLOATS = frozenset({float})
_ONLY_INTS = frozenset({int})
_NUMBERS = frozenset({float, int})
_KEY, _VALUE, _TIMESTAMP, _STEP = map(itemgetter, ("key", "value", "timestamp", "step"))


def _load_columns(items: list[Any]) -> MetricColumns | None:
    # ``items`` as columns when every entry is plain with no links, else None. Plain here:
    # what ``_load_plain_points`` takes, with every entry a dict of exactly ``key``, ``value``,
    # ``timestamp`` and ``step`` (an int), or every entry of exactly the first three. Checked
    # a field at a time over the whole batch (each pass runs in C), so a batch with anything
    # else, an error included, is left whole to the point-by-point path.
    if not items or set(map(type, items)) != _ONLY_DICTS:
        return None
    sizes = set(map(len, items))
    try:
        # A dict of this size that has all of these fields has no other.
        if sizes == {4}:
            steps: list[Any] = list(map(_STEP, items))
        elif sizes == {3}:
            steps = [0] * len(items)
        else:
            return None
        keys: list[Any] = list(map(_KEY, items))
        values: list[Any] = list(map(_VALUE, items))
        timestamps: list[Any] = list(map(_TIMESTAMP, items))
    except KeyError:
        return None
    if not (set(map(type, keys)) == _ONLY_STRS and _int64s(timestamps) and _int64s(steps)):
        return None
    value_types = set(map(type, values))
    if value_types != _ONLY_FLOATS:
        if not value_types <= _NUMBERS:
            return None
        if not all(INT64_MIN <= value <= INT64_MAX for value in values if type(value) is int):
            return None
        values = list(map(float, values))
    return MetricColumns(keys, values, timestamps, steps)


def _int64s(numbers: list[Any]) -> bool:
    # Every item an int (bool excluded) within int64.
    return (
        set(map(type, numbers)) == _ONLY_INTS
        and min(numbers) >= INT64_MIN
        and max(numbers) <= INT64_MAX
    )


def _load_plain_points(items: list[Any], start: int, points: list[MetricPoint]) -> int:
    """Append the points of ``items[start:]`` up to the first entry that is not plain.

    Plain: a dict of exactly ``key`` (str), ``value`` (float, or int within int64),
    ``timestamp`` and optionally ``step`` (ints within int64, or a null step) and the links
    (strings or nulls). Exact types, so bool, an int subclass and strings such as "NaN" are
    left to ``_load_metric``, which gives the same result for a plain entry. Returns how many
    entries were appended.
    """
    append = points.append
    loaded = 0
    for item in items[start:] if start else items:
        if type(item) is not dict:
            break
        size = len(item)
        key = item.get("key")
        value: Any = item.get("value")
        timestamp = item.get("timestamp")
        step = item.get("step")
        fields_given = 3 + (step is not None or "step" in item)
        links = _NO_LINKS
        if size != fields_given:  # links, or a field missing, or unknown fields
            model_id = item.get("model_id")
            dataset_name = item.get("dataset_name")
            dataset_digest = item.get("dataset_digest")
            given = ("model_id" in item) + ("dataset_name" in item) + ("dataset_digest" in item)
            if not (
                size == fields_given + given
                and (model_id is None or type(model_id) is str)
                and (dataset_name is None or type(dataset_name) is str)
                and (dataset_digest is None or type(dataset_digest) is str)
            ):
                break
            links = (model_id, dataset_name, dataset_digest)
        if step is None:
            step = 0
        value_type = type(value)
        if value_type is not float:
            if value_type is not int or not INT64_MIN <= value <= INT64_MAX:
                break
            value = float(value)
        if (
            type(key) is not str
            or type(timestamp) is not int
            or type(step) is not int
            or not INT64_MIN <= timestamp <= INT64_MAX
            or not INT64_MIN <= step <= INT64_MAX
        ):
            break
        append(_new_tuple(MetricPoint, (key, value, timestamp, step, *links)))
        loaded += 1
    return loaded


def _load_metric(index: int, item: Any) -> MetricPoint:
    if not isinstance(item, dict):
        raise ValidationError({index: ["Not a valid metric object."]})
    key = item.get("key")
    if not isinstance(key, str):
        raise ValidationError({index: {"key": ["Missing or not a string."]}})
    if "value" not in item or "timestamp" not in item:
        raise ValidationError({index: ["value and timestamp are required."]})
    try:
        value: Any = _DOUBLE.deserialize(item["value"])
        timestamp: Any = _INT64.deserialize(item["timestamp"])
        step: Any = _INT64.deserialize(item.get("step") or 0)
    except ValidationError as err:
        raise ValidationError({index: err.messages}) from None
    links: list[str | None] = []
    for name in _OPTIONAL_TEXT:
        text = item.get(name)
        if text is not None and not isinstance(text, str):
            raise ValidationError({index: {name: ["Not a valid string."]}})
        links.append(text)
    return MetricPoint(key, value, timestamp, step, *links)


class LogMetricSchema(RunIdSchema, MetricSchema):  # type: ignore[valid-type, misc]
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
    """POST runs/log-batch (the server checks the list lengths before loading)."""

    metrics = MetricList(load_default=list)
    params = _pairs()
    tags = _pairs()


class LogModelSchema(RunIdSchema):
    """POST runs/log-model (MLflow 2 clients)."""

    model_json = fields.String(required=True)


DatasetSchema = entity_request(
    Dataset,
    "DatasetSchema",
    required=("name", "digest", "source_type", "source"),
    optional={"schema": None, "profile": None},
    doc="A dataset of log-inputs.",
)


class DatasetInputSchema(RequestSchema):
    """A dataset with its input tags."""

    tags = _pairs()
    dataset = fields.Nested(DatasetSchema, required=True)


ModelIdSchema = entity_request(
    ModelInput, "ModelIdSchema", required=("model_id",), doc="``{model_id}``."
)
ModelOutputSchema = entity_request(
    ModelOutput,
    "ModelOutputSchema",
    required=("model_id", "step"),
    doc="``{model_id, step}`` of runs/outputs.",
)


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


class BulkIntervalSchema(RequestSchema):
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
