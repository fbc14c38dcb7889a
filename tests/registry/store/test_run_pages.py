"""Pages of runs sorted by a metric the filter does not test, on every engine: MLflow's order."""

from __future__ import annotations

import math
import sys
from collections.abc import Iterator

import peewee
import pytest

from registry.store import open_database
from registry.store.models import (
    VALUE_FINITE,
    VALUE_NAN,
    VALUE_NEG_INF,
    VALUE_POS_INF,
    Experiment,
    LatestMetric,
    Param,
    Run,
    RunTag,
)
from registry.store.run_search import page_of_runs
from registry.store.run_tables import match_count

MISSING = None
# run id: (rmse, start_time, param p); runs without rmse sort last, NaN just before them.
RUNS: dict[str, tuple[float | None, int | None, str]] = {
    "a": (1.0, 5, "x"),
    "b": (1.0, 9, "y"),
    "c": (3.0, 1, "x"),
    "d": (math.inf, 2, "x"),
    "e": (-math.inf, 3, "y"),
    "f": (math.nan, 4, "x"),
    "g": (math.nan, 8, "x"),
    "h": (MISSING, 7, "x"),
    "i": (MISSING, None, "y"),
    "k": (MISSING, 10, "x"),
}
ASCENDING = ["e", "b", "a", "c", "d", "g", "f", "k", "h", "i"]
DESCENDING = ["d", "c", "b", "a", "e", "g", "f", "k", "h", "i"]


@pytest.fixture
def experiment(db_url: str) -> Iterator[int]:
    database: peewee.Database = open_database(db_url)
    with database.connection_context():
        exp = Experiment.create(
            name="sweep", artifact_location="file:///a", creation_time=1, last_update_time=1
        )
        other = Experiment.create(
            name="other", artifact_location="file:///b", creation_time=1, last_update_time=1
        )
        for run_id, (rmse, start, p) in RUNS.items():
            _run(exp, run_id, rmse, start, p)
        # Neither a deleted run nor another experiment's run shows up.
        _run(exp, "z-deleted", 2.0, 6, "x", lifecycle_stage="deleted")
        _run(other, "z-other", 2.0, 6, "x")
        LatestMetric.create(run="k", key="r2", value=0.5, timestamp=0)
        yield exp.experiment_id
    close_all = getattr(database, "close_all", None)
    if close_all is not None:
        close_all()


def _run(
    exp: Experiment,
    run_id: str,
    rmse: float | None,
    start: int | None,
    p: str,
    lifecycle_stage: str = "active",
) -> None:
    Run.create(
        run_uuid=run_id,
        experiment=exp,
        name=run_id,
        start_time=start,
        lifecycle_stage=lifecycle_stage,
        artifact_uri=f"file:///a/{run_id}",
    )
    Param.create(run=run_id, key="p", value=p)
    if rmse is None:
        return
    kind, value = VALUE_FINITE, rmse
    if math.isnan(rmse):
        kind, value = VALUE_NAN, 0.0
    elif math.isinf(rmse):
        kind = VALUE_POS_INF if rmse > 0 else VALUE_NEG_INF
        value = math.copysign(sys.float_info.max, rmse)
    LatestMetric.create(run=run_id, key="rmse", value=value, value_kind=kind, timestamp=0)


def paged(experiment_id: int, order: str, per_page: int, filter_string: str = "") -> list[str]:
    """Every page in turn, as the runs table and runs/search read them."""
    ids: list[str] = []
    offset = 0
    while True:
        rows = page_of_runs(
            [experiment_id],
            filter_string,
            [order],
            "ACTIVE_ONLY",
            offset=offset,
            limit=per_page + 1,
        )
        ids += [run.run_uuid for run in rows[:per_page]]
        if len(rows) <= per_page:
            return ids
        offset += per_page


@pytest.mark.parametrize("per_page", [1, 3, 50])
def test_metric_order_pages_through_numbers_then_nan_then_missing(
    experiment: int, per_page: int
) -> None:
    assert paged(experiment, "metrics.rmse ASC", per_page) == ASCENDING
    assert paged(experiment, "metrics.rmse DESC", per_page) == DESCENDING


def test_metric_order_with_a_filter_on_something_else(experiment: int) -> None:
    wanted = [run for run in DESCENDING if RUNS[run][2] == "x"]
    assert paged(experiment, "metrics.rmse DESC", 2, "params.p = 'x'") == wanted
    # A filter on the sort metric itself keeps only the runs that have a number for it.
    assert paged(experiment, "metrics.rmse ASC", 2, "metrics.rmse > 0") == ["b", "a", "c", "d"]


def test_a_page_past_the_end_is_empty(experiment: int) -> None:
    rows = page_of_runs([experiment], "", ["metrics.rmse DESC"], "ACTIVE_ONLY", offset=40, limit=11)
    assert rows == []


@pytest.mark.parametrize("direction", ["DESC", "ASC"])
def test_filtered_pages_by_start_time(experiment: int, direction: str) -> None:
    order = f"attributes.start_time {direction}"
    newest_first = sorted(
        (run for run in RUNS if RUNS[run][1] is not None), key=lambda r: -(RUNS[r][1] or 0)
    )
    # NULL start times sort last in either direction, as MLflow sorts them.
    expected = (newest_first if direction == "DESC" else newest_first[::-1]) + ["i"]
    # Pages filled from the first runs in order, and a page the filter leaves short.
    assert paged(experiment, order, 2, "params.p = 'x'") == [
        run for run in expected if RUNS[run][2] == "x"
    ]
    assert paged(experiment, order, 2, "params.p = 'y'") == [
        run for run in expected if RUNS[run][2] == "y"
    ]
    assert paged(experiment, order, 3, "metrics.rmse > 2") == [
        run for run in expected if run in ("c", "d")
    ]


def test_match_count_with_a_param_or_tag_filter(experiment: int) -> None:
    # Values as long as MLflow allows (6,000 characters for a param, 8,000 for a tag) are still
    # logged and counted: the value indexes of migration 9 must not reject them on any engine.
    long_param, long_tag = "v" * 6000, "t" * 8000
    Param.create(run="a", key="long", value=long_param)
    Param.create(run="z-deleted", key="long", value=long_param)
    for run_id in ("a", "b", "c"):
        RunTag.create(run=run_id, key="team", value="ml")
    RunTag.create(run="d", key="team", value="ML")
    RunTag.create(run="e", key="team", value=long_tag)
    x_runs = [run for run in RUNS if RUNS[run][2] == "x"]

    assert match_count(experiment, "params.p = 'x'") == len(x_runs)
    assert match_count(experiment, "params.p = 'X'") == 0
    assert match_count(experiment, "params.p IN ('x', 'y')") == len(RUNS)
    assert match_count(experiment, "params.p = 'x' and metrics.rmse < 2") == 1  # "a"
    assert match_count(experiment, f"params.long = '{long_param}'") == 1
    assert match_count(experiment, "params.p = 'x'", deleted=True) == 1
    assert match_count(experiment, "tags.team = 'ml'") == 3
    assert match_count(experiment, f"tags.team = '{long_tag}'") == 1
    assert match_count(experiment, "tags.team = 'ml' and params.p = 'y'") == 1  # "b"
