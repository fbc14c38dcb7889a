"""Store records as the API answers them: each dumped through its wire schema.

The shapes are the wire package's; what lives here is only where a value comes from when the
row names or stores it differently (``Run.name`` is ``run_name``, a metric's value is stored
with its kind, a version's status is always ``READY``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from marshmallow import Schema, fields

from registry.store.datasets import dataset_input_tags
from registry.store.experiments import ExperimentRecord, with_tags
from registry.store.logged_models import LoggedModelRecord
from registry.store.metrics import logged_value
from registry.store.models import (
    VALUE_FINITE,
    Experiment,
    ModelVersion,
    RegisteredModel,
    RegisteredModelAlias,
    Run,
    Transition,
)
from registry.store.run_rows import (
    DatasetInputRow,
    ModelInputRow,
    ModelOutputRow,
    fetch_rows,
    tables_with_rows,
)
from registry.store.runs import RunRecord
from registry.store.version_rows import VersionRow, as_row
from registry.wire import logged_models, registry, tracking
from registry.wire.base import JSON, Constant, View, encoder, itself
from registry.wire.fields import double_to_json


def _logged_value(metric: Any) -> float:
    kind = metric.value_kind
    return metric.value if kind == VALUE_FINITE else logged_value(metric.value, kind)


def _model_info(record: LoggedModelRecord) -> View:
    return View(record.model, tags=record.tags)


def _exclusive(model: RegisteredModel) -> bool:
    return bool(model.exclusive_stages)


_READY = Constant("READY")
_RUN_SOURCES = {"run_id": "run_uuid", "run_name": "name"}
_EXPERIMENT = encoder(tracking.Experiment.Schema)
_RUN_INFO = encoder(tracking.RunInfo.Schema, sources=_RUN_SOURCES)
_METRIC = encoder(tracking.Metric.Schema, sources={"value": _logged_value})
# A run's latest metrics: their rows carry the run id, which a run's data leaves out.
_LATEST_METRIC = encoder(
    tracking.Metric.Schema, sources={"value": _logged_value, "run_id": Constant(None)}
)
_DATASET_INPUT = encoder(
    tracking.DatasetInput.Schema, sources={"dataset": itself, "tags": dataset_input_tags}
)
# A RunRecord as a Run: every part is read from the record's rows, none rebuilt as a View.
_RUN = encoder(
    tracking.Run.Schema,
    sources={"info": "run", "data": itself, "inputs": itself, "outputs": itself},
    nested={
        "info": _RUN_INFO,
        "data": encoder(tracking.RunData.Schema, nested={"metrics": _LATEST_METRIC}),
        "inputs": encoder(tracking.RunInputs.Schema, nested={"dataset_inputs": _DATASET_INPUT}),
    },
)
_LOGGED_MODEL = encoder(
    logged_models.LoggedModel.Schema,
    sources={"info": _model_info, "data": itself},
    nested={"data": encoder(logged_models.LoggedModelData.Schema, nested={"metrics": _METRIC})},
)
_VERSION = encoder(registry.ModelVersion.Schema, sources={"status": _READY})
# A registered model's latest versions are listed without their tags and aliases.
_LATEST_VERSION = encoder(
    registry.ModelVersion.Schema,
    sources={"status": _READY, "tags": Constant(()), "aliases": Constant(())},
)
_MODEL = encoder(
    registry.RegisteredModel.Schema,
    sources={"exclusive_stages": _exclusive},
    nested={"latest_versions": _LATEST_VERSION},
)
_TRANSITION = encoder(registry.Transition.Schema, sources={"alias": "alias_name"})


def experiment_json(record: ExperimentRecord) -> JSON:
    """An Experiment."""
    return _EXPERIMENT(View(record.experiment, tags=record.tags))


def experiment_row_json(experiment: Experiment) -> JSON:
    """An Experiment from its row (its tags fetched)."""
    return experiment_json(with_tags([experiment])[0])


def run_info_json(run: Any) -> JSON:
    """A RunInfo (``end_time`` omitted while the run has none)."""
    return _RUN_INFO(run)


def metric_json(metric: Any, run_id: str | None = None) -> JSON:
    """A Metric from a history or latest-value row; ``run_id`` only when given."""
    return _METRIC(View(metric, run_id=run_id))


def run_json(record: RunRecord) -> JSON:
    """A Run: info, data (latest metrics, params, tags), inputs and outputs."""
    return _RUN(record)


_RUN_INPUTS = encoder(tracking.RunInputs.Schema, nested={"dataset_inputs": _DATASET_INPUT})
_RUN_OUTPUTS = encoder(tracking.RunOutputs.Schema)
_INFINITE = (math.inf, -math.inf)
# The fields ``runs_json`` writes by hand, as declared when it was written: ``_field_shapes``
# of each schema. A change to one of them stops the import until ``runs_json`` follows it.
_RUN_SHAPE = {
    tracking.Run.Schema: [
        ("info", "Nested(RunInfoSchema)", "never"),
        ("data", "Nested(RunDataSchema)", "never"),
        ("inputs", "Nested(RunInputsSchema)", "never"),
        ("outputs", "Nested(RunOutputsSchema)", "empty"),
    ],
    tracking.RunData.Schema: [
        ("metrics", "MetricValues(Nested(MetricSchema))", "empty"),
        ("params", "KeyValues", "empty"),
        ("tags", "KeyValues", "empty"),
    ],
    tracking.Metric.Schema: [
        ("key", "String", "never"),
        ("value", "Double", "never"),
        ("timestamp", "Int64", "never"),
        ("step", "Int64", "never"),
        ("dataset_name", "String", "empty"),  # the rest: not columns of a latest-metric row
        ("dataset_digest", "String", "empty"),
        ("model_id", "String", "empty"),
        ("run_id", "String", "none"),
    ],
}


def _field_shape(field: Any) -> str:
    name = type(field).__name__
    if isinstance(field, fields.Nested):
        return f"{name}({type(field.schema).__name__})"
    if isinstance(field, fields.List):
        return f"{name}({_field_shape(field.inner)})"
    return name


def _field_shapes(schema: type[Schema]) -> list[tuple[str, str, str]]:
    """Each dumped field's JSON key, type and omit rule, in order."""
    return [
        (field.data_key or name, _field_shape(field), field.metadata.get("omit", "never"))
        for name, field in schema().dump_fields.items()
    ]


for _schema, _shape in _RUN_SHAPE.items():
    if _field_shapes(_schema) != _shape:
        raise RuntimeError(f"runs_json writes {_schema.__name__} as it was: update it")


def runs_json(runs: Sequence[Run]) -> list[JSON]:
    """``[run_json(r) for r in load_records(runs)]``, built straight from the rows' tuples.

    A page of 1000 runs has some 13,000 params, tags and metrics: each becomes its JSON dict
    here, with the conversions ``_RUN`` applies (``_RUN_SHAPE`` checks the schemas still ask for
    exactly these), and no named tuple or record in between. Info, inputs and outputs go
    through their compiled encoders; ``tests/registry/store/test_runs_json.py`` compares the
    two on varied runs.
    """
    if not runs:
        return []
    ids = [run.run_uuid for run in runs]
    params = _pairs(fetch_rows("params", ids))
    tags = _pairs(fetch_rows("tags", ids))
    metrics: dict[str, list[JSON]] = {}
    for run_id, key, value, kind, timestamp, step in fetch_rows("metrics", ids):
        if kind != VALUE_FINITE:
            value = logged_value(value, kind)
        if type(value) is not float or value != value or value in _INFINITE:
            value = double_to_json(value)
        if type(timestamp) is not int and timestamp is not None:
            timestamp = int(timestamp)
        if type(step) is not int and step is not None:
            step = int(step)
        point = {"key": key, "value": value, "timestamp": timestamp, "step": step}
        found = metrics.get(run_id)
        if found is None:
            metrics[run_id] = [point]
        else:
            found.append(point)
    rare = tables_with_rows(ids)
    inputs: dict[str, dict[str, list[Any]]] = {}
    for row in fetch_rows("dataset_inputs", ids) if "dataset_inputs" in rare else ():
        inputs.setdefault(row[0], {}).setdefault("dataset_inputs", []).append(DatasetInputRow(*row))
    for row in fetch_rows("model_inputs", ids) if "model_inputs" in rare else ():
        inputs.setdefault(row[0], {}).setdefault("model_inputs", []).append(ModelInputRow(*row))
    outputs: dict[str, list[ModelOutputRow]] = {}
    for row in fetch_rows("model_outputs", ids) if "model_outputs" in rare else ():
        outputs.setdefault(row[0], []).append(ModelOutputRow(*row))
    answers = []
    for run in runs:
        run_id = run.run_uuid
        data: JSON = {}
        if run_id in metrics:
            data["metrics"] = metrics[run_id]
        if run_id in params:
            data["params"] = params[run_id]
        if run_id in tags:
            data["tags"] = tags[run_id]
        answer = {
            "info": _RUN_INFO(run),
            "data": data,
            "inputs": _RUN_INPUTS(inputs[run_id]) if run_id in inputs else {},
        }
        if run_id in outputs:
            answer["outputs"] = _RUN_OUTPUTS({"model_outputs": outputs[run_id]})
        answers.append(answer)
    return answers


def _pairs(rows: list[tuple[Any, ...]]) -> dict[str, list[JSON]]:
    """``{run_id: [{key, value}]}``: params or tags as ``KeyValues`` dumps them."""
    grouped: dict[str, list[JSON]] = {}
    for run_id, key, value in rows:
        pair = {"key": key, "value": value}
        found = grouped.get(run_id)
        if found is None:
            grouped[run_id] = [pair]
        else:
            found.append(pair)
    return grouped


def logged_model_json(record: LoggedModelRecord) -> JSON:
    """A LoggedModel: ``{info, data}``."""
    return _LOGGED_MODEL(record)


def model_version_json(
    version: VersionRow, tags: Sequence[Any] = (), aliases: Sequence[str] | None = None
) -> JSON:
    """A ModelVersion as MLflow sends it (``status`` is always ``READY``)."""
    return _VERSION(View(version, tags=tags, aliases=aliases or ()))


def registered_model_json(
    model: RegisteredModel,
    *,
    tags: Sequence[Any] = (),
    aliases: Sequence[RegisteredModelAlias] = (),
    latest: Sequence[ModelVersion] = (),
) -> JSON:
    """A RegisteredModel as MLflow sends it, plus our ``exclusive_stages`` flag."""
    view = View(
        model,
        latest_versions=[as_row(v) for v in latest],
        tags=tags,
        aliases=[(a.alias_name, a.version) for a in aliases],
    )
    return _MODEL(view)


def transition_json(entry: Transition, model_name: str) -> JSON:
    """One history entry."""
    return _TRANSITION(View(entry, name=model_name))
