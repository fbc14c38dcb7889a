"""Search queries on every engine: which rows come back, in which order."""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Iterator

import peewee
import pytest

from registry.errors import InvalidParameter
from registry.store import open_database
from registry.store.filters import search_runs_query
from registry.store.models import (
    VALUE_FINITE,
    VALUE_NAN,
    VALUE_NEG_INF,
    VALUE_POS_INF,
    Dataset,
    Experiment,
    LatestMetric,
    Param,
    Run,
    RunInput,
    RunTag,
)


@pytest.fixture
def database(db_url: str) -> Iterator[peewee.Database]:
    database = open_database(db_url)
    with database.connection_context():
        yield database
    close_all = getattr(database, "close_all", None)
    if close_all is not None:
        close_all()


def make_experiment(name: str = "exp") -> Experiment:
    return Experiment.create(
        name=name, artifact_location="file:///a", creation_time=1, last_update_time=1
    )


def make_run(
    experiment: Experiment,
    run_id: str,
    *,
    name: str = "",
    start_time: int | None = 0,
    lifecycle_stage: str = "active",
    metrics: dict[str, float] | None = None,
    params: dict[str, str] | None = None,
    tags: dict[str, str] | None = None,
    inputs: list[tuple[str, str, str | None]] = (),  # type: ignore[assignment]
) -> Run:
    run = Run.create(
        run_uuid=run_id,
        experiment=experiment,
        name=name,
        start_time=start_time,
        lifecycle_stage=lifecycle_stage,
        artifact_uri=f"file:///a/{run_id}",
    )
    for key, value in (metrics or {}).items():
        LatestMetric.create(
            run=run,
            experiment_id=run.experiment_id,
            key=key,
            timestamp=0,
            **stored_metric(value),
        )
    for key, text in (params or {}).items():
        Param.create(run=run, key=key, value=text)
    for key, text in (tags or {}).items():
        RunTag.create(run=run, key=key, value=text)
    for dataset_name, digest, context in inputs:
        dataset, _ = Dataset.get_or_create(
            experiment=experiment,
            name=dataset_name,
            digest=digest,
            defaults={"source_type": "local", "source": "x"},
        )
        input_tags = [] if context is None else [{"key": "mlflow.data.context", "value": context}]
        RunInput.create(run=run, dataset=dataset, tags_json=json.dumps(input_tags))
    return run


def stored_metric(value: float) -> dict[str, float | int]:
    """The models' storage convention: NaN and infinities are a finite value plus a kind."""
    if math.isnan(value):
        return {"value": 0.0, "value_kind": VALUE_NAN}
    if math.isinf(value):
        kind = VALUE_POS_INF if value > 0 else VALUE_NEG_INF
        return {"value": math.copysign(sys.float_info.max, value), "value_kind": kind}
    return {"value": value, "value_kind": VALUE_FINITE}


def run_ids(
    experiment: Experiment,
    filter_string: str | None,
    order_by: list[str] | None = None,
    view_type: str = "ACTIVE_ONLY",
) -> list[str]:
    query = search_runs_query([experiment.experiment_id], filter_string, order_by, view_type)
    return [run.run_uuid for run in query]


@pytest.fixture
def runs(database: peewee.Database) -> Experiment:
    exp = make_experiment()
    make_run(
        exp,
        "a",
        name="Page-1",
        start_time=3,
        metrics={"rmse": 5.0, "acc": 0.9},
        params={"alpha": "0.1", "model": "ridge"},
        tags={"mlflow.runName": "Page-1", "team": "x"},
        inputs=[("train-set", "d1", "train")],
    )
    make_run(
        exp,
        "b",
        name="page-2",
        start_time=2,
        metrics={"rmse": 7.0, "acc": math.nan},
        params={"alpha": "0.5", "model": "lasso"},
        tags={"team": "y"},
        inputs=[("eval-set", "d2", "eval")],
    )
    make_run(
        exp,
        "c",
        name="page_3*[x]",
        start_time=1,
        metrics={"acc": 0.5},
        params={"alpha": "0.1", "note": "50%!"},
        inputs=[("train-set", "d1", None)],
    )
    make_run(exp, "d", name="gone", start_time=0, lifecycle_stage="deleted")
    other = make_experiment("other")
    make_run(other, "z", name="Page-1", metrics={"rmse": 1.0})
    return exp


RUN_FILTERS = [
    (None, {"a", "b", "c"}),
    ("metrics.rmse < 6.8", {"a"}),
    ("metrics.rmse < 6.8 and params.alpha = '0.1'", {"a"}),
    ("metrics.acc > 0", {"a", "c"}),  # NaN never matches a comparison
    ("metrics.acc != 0.9", {"c"}),
    ("metrics.acc IS NULL", set()),
    ("metrics.rmse IS NULL", {"c"}),
    ("metrics.rmse IN (5, 7)", {"a", "b"}),
    ("params.model != 'ridge'", {"b"}),  # runs without the param do not match
    ("tags.team != 'x'", {"b"}),
    ("params.model IS NULL", {"c"}),
    ("tags.team IS NOT NULL", {"a", "b"}),
    ("params.alpha IN ('0.5', '0.9')", {"b"}),
    ("params.alpha NOT IN ('0.5')", {"a", "c"}),
    ("run_name LIKE 'page-%'", {"b"}),  # LIKE is case-sensitive
    ("run_name LIKE 'PAGE-%'", set()),
    ("run_name ILIKE 'PAGE-%'", {"a", "b"}),
    ("run_name LIKE 'page_%'", {"b", "c"}),  # _ is a wildcard
    ("run_name LIKE '%*[x]'", {"c"}),  # GLOB metacharacters are literal
    ("run_name LIKE '%*'", set()),
    ("run_name = 'page-2'", {"b"}),
    ("run_name = 'PAGE-2'", set()),  # = is case-exact on every engine
    ("tags.mlflow.runName = 'Page-1'", {"a"}),
    ("tags.`mlflow.runName` ILIKE 'page%'", {"a"}),
    ("attributes.run_id IN ('a', 'c')", {"a", "c"}),
    ("run_id NOT IN ('a')", {"b", "c"}),
    ("status = 'RUNNING'", {"a", "b", "c"}),
    ("start_time >= 2", {"a", "b"}),
    ("created < 2", {"c"}),
    ("end_time IS NULL", {"a", "b", "c"}),
    ("metrics.rmse < 6 OR params.alpha = '0.5'", {"a", "b"}),
    ("(metrics.rmse < 6 OR metrics.rmse > 6) AND params.model = 'lasso'", {"b"}),
    ("metrics.rmse < 6 OR metrics.acc < 0.6 AND params.alpha = '0.1'", {"a", "c"}),
    ("datasets.name = 'train-set'", {"a", "c"}),
    ("datasets.digest IN ('d2')", {"b"}),
    ("datasets.context = 'train'", {"a"}),
    ("datasets.context != 'train'", {"b"}),
    ("datasets.context LIKE 'ev%'", {"b"}),
    ("datasets.context IN ('train', 'eval')", {"a", "b"}),
    ("datasets.context IS NULL", {"c"}),
]


def test_run_filters(runs: Experiment) -> None:
    # One test per engine over the whole table keeps the suite fast; the dict names each miss.
    got = {text: set(run_ids(runs, text)) for text, _ in RUN_FILTERS}
    assert got == {text: expected for text, expected in RUN_FILTERS}


def test_run_ordering(runs: Experiment) -> None:
    assert run_ids(runs, None) == ["a", "b", "c"]  # start_time DESC
    assert run_ids(runs, None, ["metrics.rmse"]) == ["a", "b", "c"]
    assert run_ids(runs, None, ["metrics.rmse DESC"]) == ["b", "a", "c"]  # missing last
    # NaN after every number, before missing, in both directions
    assert run_ids(runs, None, ["metrics.acc ASC"]) == ["c", "a", "b"]
    assert run_ids(runs, None, ["metrics.acc DESC"]) == ["a", "c", "b"]
    assert run_ids(runs, None, ["params.model DESC"]) == ["a", "b", "c"]
    assert run_ids(runs, None, ["tags.team"]) == ["a", "b", "c"]
    assert run_ids(runs, None, ["params.alpha", "start_time"]) == ["c", "a", "b"]
    assert run_ids(runs, None, ["params.alpha DESC"]) == ["b", "a", "c"]  # tie: start_time DESC
    assert run_ids(runs, "metrics.rmse > 0", ["metrics.rmse DESC", "tags.team"]) == ["b", "a"]
    # a filter on the sort metric is tested on the joined row (the fast path): same answers
    assert run_ids(runs, "metrics.rmse < 6.8 and params.alpha = '0.1'", ["metrics.rmse"]) == ["a"]
    assert run_ids(runs, "metrics.acc >= 0.5", ["metrics.acc DESC"]) == ["a", "c"]
    either = "metrics.acc >= 0.5 or params.alpha = '0.5'"
    assert run_ids(runs, either, ["metrics.acc DESC"]) == ["a", "c", "b"]


def test_run_view_types(runs: Experiment) -> None:
    assert run_ids(runs, None, view_type="DELETED_ONLY") == ["d"]
    assert set(run_ids(runs, None, view_type="ALL")) == {"a", "b", "c", "d"}
    with pytest.raises(InvalidParameter, match="view_type"):
        run_ids(runs, None, view_type="SOME")


def test_run_ties_nulls_and_infinities(database: peewee.Database) -> None:
    exp = make_experiment()
    make_run(exp, "r2", start_time=5, metrics={"loss": math.inf})
    make_run(exp, "r1", start_time=5, metrics={"loss": -math.inf})
    make_run(exp, "r3", start_time=5, metrics={"loss": 1e300})
    make_run(exp, "r0", start_time=None, metrics={"loss": 0.0})
    assert run_ids(exp, None) == ["r1", "r2", "r3", "r0"]  # NULL start_time last, then run_id
    assert run_ids(exp, None, ["start_time ASC"]) == ["r1", "r2", "r3", "r0"]
    assert run_ids(exp, None, ["metrics.loss DESC"]) == ["r2", "r3", "r0", "r1"]
    assert run_ids(exp, "metrics.loss > 1e299", ["metrics.loss"]) == ["r3", "r2"]
    assert run_ids(exp, "metrics.loss < 1e999") == ["r1", "r3", "r0"]  # 1e999 is +infinity
    assert run_ids(exp, "metrics.loss = -1e999") == ["r1"]
