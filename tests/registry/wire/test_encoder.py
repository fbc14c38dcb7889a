"""The compiled encoder answers exactly what marshmallow's ``dump`` answers, on every path:
non-finite doubles, omitted Nones and empties, nested lists, views, dicts, rows lacking a field."""

from __future__ import annotations

import json
import math
from typing import Any, NamedTuple

import pytest
from marshmallow import fields

from registry.wire.base import Constant, View, encoder, itself
from registry.wire.logged_models import LoggedModel
from registry.wire.registry import ModelVersion, RegisteredModel, Transition
from registry.wire.responses import HOLDERS, RUNS, body
from registry.wire.tracking import (
    Dataset,
    DatasetInput,
    Experiment,
    Metric,
    ModelInput,
    ModelOutput,
    Run,
    RunData,
    RunInfo,
    RunInputs,
    RunOutputs,
)


class MetricRow(NamedTuple):
    """A stored row: no dataset or model fields at all."""

    key: str
    value: float
    timestamp: int
    step: int


class Row:
    """A plain object with attributes of its own."""

    def __init__(self, **values: Any) -> None:
        self.__dict__.update(values)


def _same(schema: Any, obj: Any) -> None:
    expected = schema().dump(obj)
    got = encoder(schema)(obj)
    # Byte for byte, key order included (NaN is written as it is by both).
    assert json.dumps(got) == json.dumps(expected)


@pytest.mark.parametrize("value", [0.5, 0.0, -0.0, 3, math.nan, math.inf, -math.inf, 1e308, None])
def test_doubles_finite_and_not(value: Any) -> None:
    _same(Metric.Schema, Metric("loss", value, 5, 1))
    _same(Metric.Schema, MetricRow("loss", value, 5, 1))


def test_none_and_empty_omission() -> None:
    _same(Metric.Schema, Metric("k", 1.0, dataset_name="", model_id="m", run_id=None))
    _same(Metric.Schema, Metric("k", 1.0, run_id=""))
    info = RunInfo(run_id="r", start_time=None, end_time=None)
    _same(RunInfo.Schema, info)
    _same(RunInfo.Schema, RunInfo(run_id="r", start_time=0, end_time=0))
    _same(Dataset.Schema, Dataset("d", "x", "local", "s", schema="", profile=None))
    _same(Experiment.Schema, Experiment("1", last_update_time=None))
    _same(RUNS, {"runs": [], "next_page_token": ""})
    _same(RUNS, {"runs": None, "next_page_token": None})


def test_conversions_of_loose_types() -> None:
    row = Row(
        experiment_id=7,
        name=b"bytes are text",
        artifact_location=None,
        lifecycle_stage="active",
        last_update_time="12",
        creation_time=True,
        tags=[("a", "b")],
    )
    _same(Experiment.Schema, row)
    _same(ModelOutput.Schema, {"model_id": 3, "step": 2.0})
    _same(HOLDERS, {"name": "m", "at": 4, "versions": ["1", 2, None, b"3"]})


def test_nested_lists_views_and_dicts() -> None:
    dataset = Dataset("d", "x", "local", "s", schema="{}")
    run = Run(
        info=RunInfo(run_id="r", experiment_id="0", start_time=1),
        data=RunData(metrics={"a": math.nan, "b": 2.0}, params={"p": "1"}, tags={}),
        inputs=RunInputs(
            dataset_inputs=(DatasetInput(dataset, {"t": "v"}), DatasetInput(dataset)),
            model_inputs=(ModelInput("m"),),
        ),
        outputs=RunOutputs(model_outputs=(ModelOutput("m", 3),)),
    )
    _same(Run.Schema, run)
    _same(Run.Schema, Run(info=RunInfo(run_id="r")))
    _same(RUNS, {"runs": [run, run], "next_page_token": "t"})
    as_dicts = {
        "info": {"run_id": "r", "status": "FINISHED"},
        "data": {"metrics": [MetricRow("a", 1.0, 2, 3)], "tags": [{"key": "k", "value": "v"}]},
        "inputs": {"dataset_inputs": [], "model_inputs": [{"model_id": "m"}]},
    }
    _same(Run.Schema, as_dicts)
    view = View(
        Row(run_uuid="r", name="n", status="RUNNING", end_time=None, start_time=5),
        run_id="r",
        run_name="n",
    )
    _same(RunInfo.Schema, view)
    _same(Metric.Schema, View(MetricRow("a", 1.0, 2, 3), value=math.inf, run_id="r"))


def test_registry_entities() -> None:
    version = Row(
        name="m",
        version=3,
        creation_timestamp=1,
        last_updated_timestamp=None,
        current_stage="None",
        description=None,
        source="s",
        run_id=None,
        status="READY",
        tags=[Row(key="a", value="b")],
        aliases=("champion",),
    )
    _same(ModelVersion.Schema, version)
    model = Row(
        name="m",
        creation_timestamp=1,
        last_updated_timestamp=2,
        user_id="",
        description="",
        latest_versions=[version],
        tags={},
        aliases=[("champion", 3)],
        exclusive_stages=1,
    )
    _same(RegisteredModel.Schema, model)
    _same(Transition.Schema, Row(name="m", version="1", from_value=None, to_value="Staging"))
    _same(LoggedModel.Schema, {"info": {"model_id": "m", "tags": {"a": "b"}}, "data": {}})


def test_the_same_object_type_answers_the_same_after_a_miss() -> None:
    """A type seen without an attribute still reads it on an instance that has it."""
    _same(Metric.Schema, Row(key="a", value=1.0, timestamp=1, step=0))
    _same(Metric.Schema, Row(key="a", value=1.0, timestamp=1, step=0, model_id="m"))
    _same(Metric.Schema, Row(key="a", value=1.0))


def test_fields_without_a_fast_path_and_defaults() -> None:
    schema = body(
        "Odd",
        flag=fields.Boolean(),
        info=fields.Dict(),
        constant=fields.String(dump_default="x"),
        made=fields.Integer(dump_default=lambda: 4),
        when=fields.Function(lambda obj: "f"),
    )
    _same(schema, {"flag": "yes", "info": {"a": 1}})
    _same(schema, {"flag": 0, "constant": None, "made": "5"})
    _same(schema, Row(flag=True))


class OddRow(NamedTuple):
    """A row without the fields that have dump defaults."""

    flag: bool


def test_defaults_of_fields_a_row_type_never_has() -> None:
    schema = body(
        "Defaults",
        flag=fields.Boolean(),
        constant=fields.String(dump_default="x"),
        made=fields.Integer(dump_default=lambda: 4),
        nothing=fields.String(dump_default=None, metadata={"omit": "none"}),
    )
    _same(schema, OddRow(flag=True))
    _same(schema, OddRow(flag=False))


# --- sources and nested encoders: the same JSON as dumping the View they replace ---------------


def _same_as_view(schema: Any, obj: Any, view: Any, **options: Any) -> None:
    expected = schema().dump(view)
    got = encoder(schema, **options)(obj)
    assert json.dumps(got) == json.dumps(expected)


class StoredMetric(NamedTuple):
    """A latest-metric row: the run id is there, the value stored apart from its kind."""

    run_id: str
    key: str
    stored: float
    finite: bool
    timestamp: int
    step: int


def _value(row: Any) -> float:
    return row.stored if row.finite else math.nan


def test_sources_rename_attributes() -> None:
    row = Row(run_uuid="r", name="n", status="RUNNING", end_time=None, start_time=5, user_id=7)
    view = View(row, run_id="r", run_name="n")
    sources = {"run_id": "run_uuid", "run_name": "name"}
    _same_as_view(RunInfo.Schema, row, view, sources=sources)
    # A dict's keys are read by the same names; an attribute a View replaces still wins.
    as_dict = {"run_uuid": "r", "name": "n", "start_time": None}
    expected = {**as_dict, "run_id": "r", "run_name": "n"}
    _same_as_view(RunInfo.Schema, as_dict, expected, sources=sources)
    replaced = View(row, run_name="other")
    _same_as_view(
        RunInfo.Schema, replaced, View(row, run_id="r", run_name="other"), sources=sources
    )


@pytest.mark.parametrize("finite", [True, False])
def test_sources_computed_and_constant(finite: bool) -> None:
    row = StoredMetric("r", "loss", 0.5, finite, 3, 1)
    view = View(row, value=_value(row), run_id=None)
    options = {"sources": {"value": _value, "run_id": Constant(None)}}
    _same_as_view(Metric.Schema, row, view, **options)
    # A row type lacking the fields has them read as missing; the constant is kept.
    loose = Row(key="k", stored=1.5, finite=finite, model_id="m")
    _same_as_view(Metric.Schema, loose, View(loose, value=_value(loose), run_id=None), **options)
    stamped = {"sources": {"value": _value, "run_id": Constant("r"), "step": Constant(b"7")}}
    _same_as_view(
        Metric.Schema, row, View(row, value=_value(row), run_id="r", step=b"7"), **stamped
    )


def test_nested_encoders_read_parts_of_the_same_row() -> None:
    run_row = Row(run_uuid="r", name="n", status="FINISHED", start_time=1, end_time=2)
    metrics = [StoredMetric("r", "a", 1.0, True, 1, 0), StoredMetric("r", "b", 0.0, False, 1, 0)]
    record = Row(
        run=run_row,
        metrics=metrics,
        params=[Row(key="p", value="1")],
        tags=[],
        model_outputs=[],
    )
    metric = encoder(Metric.Schema, sources={"value": _value, "run_id": Constant(None)})
    run = encoder(
        Run.Schema,
        sources={"info": "run", "data": itself, "inputs": Constant(None), "outputs": itself},
        nested={
            "info": encoder(RunInfo.Schema, sources={"run_id": "run_uuid", "run_name": "name"}),
            "data": encoder(RunData.Schema, nested={"metrics": metric}),
        },
    )
    view = View(
        record,
        info=View(run_row, run_id="r", run_name="n"),
        data=View(record, metrics=[View(m, value=_value(m), run_id=None) for m in metrics]),
        inputs=None,
        outputs=record,
    )
    for _ in range(2):  # compiled for the record's type, then read by it
        assert json.dumps(run(record)) == json.dumps(Run.Schema().dump(view))


def test_options_naming_what_the_schema_lacks_are_refused() -> None:
    with pytest.raises(ValueError, match="no fields"):
        encoder(Metric.Schema, sources={"values": "value"})
    with pytest.raises(ValueError, match="not a nested field"):
        encoder(Metric.Schema, nested={"key": encoder(Metric.Schema)})
    schema = body("Computing", when=fields.Function(lambda obj: "f"))
    with pytest.raises(ValueError, match="computes its own value"):
        encoder(schema, sources={"when": "at"})
