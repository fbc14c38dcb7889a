"""``api_reads.runs_json`` answers what the generic ``run_json`` answers, on every engine."""

from __future__ import annotations

import json
import math

from registry.store import api_reads
from registry.store.datasets import DatasetInput, log_inputs, log_outputs
from registry.store.metrics import MetricPoint
from registry.store.models import Run
from registry.store.run_data import log_batch
from registry.store.runs import load_records, update_run
from tests.factories import make_experiment, make_logged_model, make_run


def _generic(runs: list[Run]) -> list[dict[str, object]]:
    return [api_reads.run_json(record) for record in load_records(runs)]


def _text(answer: object) -> str:
    # Key order matters on the wire (the app does not sort keys); NaN would not equal itself.
    return json.dumps(answer)


def test_varied_runs_match_the_generic_encoder(bound: None) -> None:
    experiment = make_experiment()
    bare = make_run(experiment)
    numbers = make_run(
        experiment,
        params={"lr": "1e-05", "größe": "日本語 ✓", "empty": ""},
        tags={"note": "tab\there \x7f", "émoji": "🙂"},
    )
    log_batch(
        numbers.run_uuid,
        metrics=[
            MetricPoint("nan", math.nan, 5, 2),
            MetricPoint("inf", math.inf, 6),
            MetricPoint("-inf", -math.inf, 7, -3),
            MetricPoint("small", 1.5e-9, 8, 1),
            MetricPoint("big", 1.7976931348623157e308, 2**40, 2**40),
            MetricPoint("zero", 0.0, 0),
            MetricPoint("int-like", 3.0, 1),
        ],
    )
    update_run(numbers.run_uuid, status="FINISHED", end_time=99)
    with_inputs = make_run(experiment, params={"p": "v"}, metrics={"m": 0.5})
    model = make_logged_model(experiment, with_inputs)
    other = make_logged_model(experiment, with_inputs)
    log_inputs(
        with_inputs.run_uuid,
        [
            DatasetInput("train", "d1", "local", "/data/train", tags={"mlflow.data.context": "t"}),
            DatasetInput("eval", "d2", "s3", "s3://b/eval", schema='{"a": 1}', profile="{}"),
        ],
        model_ids=[other.model.model_id, model.model.model_id],
    )
    log_outputs(with_inputs.run_uuid, [(model.model.model_id, 4), (other.model.model_id, 0)])
    only_outputs = make_run(experiment)
    log_outputs(only_outputs.run_uuid, [(model.model.model_id, 1)])
    runs = [Run.get_by_id(run.run_uuid) for run in (with_inputs, bare, numbers, only_outputs)]

    fast = api_reads.runs_json(runs)

    assert _text(fast) == _text(_generic(runs))
    assert [answer["info"]["run_id"] for answer in fast] == [run.run_uuid for run in runs]
    by_key = {m["key"]: m["value"] for m in fast[2]["data"]["metrics"]}
    assert (by_key["nan"], by_key["inf"], by_key["-inf"]) == ("NaN", "Infinity", "-Infinity")
    assert "outputs" not in fast[1] and fast[1]["inputs"] == {}
    assert len(fast[0]["inputs"]["dataset_inputs"]) == 2
    assert fast[3]["outputs"]["model_outputs"][0]["step"] == 1


def test_many_runs_keep_each_runs_rows_apart(bound: None) -> None:
    experiment = make_experiment()
    made = [
        make_run(experiment, params={f"p{i % 3}": str(i)}, metrics={f"m{i % 2}": i / 7})
        for i in range(30)
    ]
    runs = [Run.get_by_id(run.run_uuid) for run in reversed(made)]

    assert _text(api_reads.runs_json(runs)) == _text(_generic(runs))


def test_run_ids_with_quotes_commas_and_braces(bound: None) -> None:
    # PostgreSQL gets a page's ids as one array literal: each id must come back as itself.
    experiment = make_experiment()
    odd = ['q"uote', "back\\slash", "com,ma", "{brace}", "sp ace", "NULL", "é"]
    for run_id in odd:
        Run.create(
            run_uuid=run_id,
            experiment=experiment.experiment_id,
            start_time=1,
            artifact_uri=f"file:///a/{len(run_id)}",
        )
        log_batch(run_id, params=[("id", run_id)], tags=[("t", "v")])
    runs = [Run.get_by_id(run_id) for run_id in odd]

    fast = api_reads.runs_json(runs)

    assert _text(fast) == _text(_generic(runs))
    assert [answer["data"]["params"] for answer in fast] == [
        [{"key": "id", "value": run_id}] for run_id in odd
    ]


def test_no_runs(bound: None) -> None:
    assert api_reads.runs_json([]) == []
