"""Pages of runs sorted by a metric the filter does not test, on every engine: MLflow's order."""

from __future__ import annotations

import base64
import json
import math
import sys
from collections.abc import Iterator

import peewee
import pytest

from registry.errors import InvalidParameter
from registry.search.paging import encode_page_token
from registry.store import open_database
from registry.store.api_reads import run_json, runs_json
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
from registry.store.run_search import page_of_runs, search_run_rows, search_runs
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
        LatestMetric.create(
            run="k", experiment_id=exp.experiment_id, key="r2", value=0.5, timestamp=0
        )
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
    LatestMetric.create(
        run=run_id,
        experiment_id=exp.experiment_id,
        key="rmse",
        value=value,
        value_kind=kind,
        timestamp=0,
    )


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


def searched(
    experiment_id: int, order: list[str], per_page: int, filter_string: str = ""
) -> list[str]:
    """Every page of the REST search in turn, following its page tokens.

    Each page is read twice: as ``search_runs``' records and as the REST handler reads it
    (``search_run_rows``: the runs' columns, not models), which must give the same JSON and
    the same next token.
    """
    ids: list[str] = []
    token = None
    for _ in range(len(RUNS) + 2):
        args = ([str(experiment_id)], filter_string, "ACTIVE_ONLY", per_page, order, token)
        records, token = search_runs(*args)
        rows, row_token = search_run_rows(*args)
        assert row_token == token
        assert json.dumps(runs_json(rows)) == json.dumps([run_json(r) for r in records])
        ids += [record.run.run_uuid for record in records]
        if token is None:
            return ids
    raise AssertionError(f"no last page after {ids}")


# Params: "y" before "x" descending; runs without the param ("l", "m") last, newest first.
BY_PARAM_DESC = ["b", "e", "i", "k", "g", "h", "a", "f", "d", "c", "l", "m"]


def _param_less_runs(experiment: int) -> None:
    for run_id, start in (("l", 6), ("m", None)):
        Run.create(
            run_uuid=run_id, experiment=experiment, start_time=start, artifact_uri="file:///a/x"
        )


@pytest.mark.parametrize("per_page", [1, 3, 50])
def test_page_tokens_follow_every_order_to_the_end(experiment: int, per_page: int) -> None:
    _param_less_runs(experiment)
    newest = sorted(
        (run for run in [*RUNS, "l"] if run != "i"),
        key=lambda r: -(RUNS[r][1] or 0) if r != "l" else -6,
    )
    assert searched(experiment, [], per_page) == [*newest, "i", "m"]
    assert searched(experiment, ["attributes.start_time ASC"], per_page) == [
        *newest[::-1],
        "i",
        "m",
    ]
    # "l" (started at 6) joins the runs without the metric, before "i" and "m" (no start time).
    assert searched(experiment, ["metrics.rmse ASC"], per_page) == [*ASCENDING[:-1], "l", "i", "m"]
    assert searched(experiment, ["metrics.rmse DESC"], per_page) == [
        *DESCENDING[:-1],
        "l",
        "i",
        "m",
    ]
    assert searched(experiment, ["params.p DESC"], per_page) == BY_PARAM_DESC
    by_param_asc = [r for r in BY_PARAM_DESC if RUNS.get(r, (0, 0, ""))[2] == "x"]
    by_param_asc += [r for r in BY_PARAM_DESC if RUNS.get(r, (0, 0, ""))[2] == "y"]
    assert searched(experiment, ["params.p ASC"], per_page) == [*by_param_asc, "l", "m"]
    # The pages agree with the runs table's numbered pages.
    assert searched(experiment, ["params.p DESC"], per_page) == paged(
        experiment, "params.p DESC", per_page
    )


def test_page_tokens_with_a_filter(experiment: int) -> None:
    x_runs = [run for run in DESCENDING if RUNS[run][2] == "x"]
    assert searched(experiment, ["metrics.rmse DESC"], 2, "params.p = 'x'") == x_runs
    assert searched(experiment, ["metrics.rmse ASC"], 1, "metrics.rmse > 0") == ["b", "a", "c", "d"]
    newest_x = [r for r in sorted(RUNS, key=lambda r: -(RUNS[r][1] or -1)) if RUNS[r][2] == "x"]
    assert searched(experiment, [], 2, "params.p = 'x'") == newest_x
    assert searched(experiment, ["params.p ASC"], 2, "metrics.rmse >= 1") == ["a", "d", "c", "b"]


def test_an_order_by_two_keys_pages_by_offset(experiment: int) -> None:
    # No index order fits two keys: one query, paged by offset tokens.
    expected = ["d", "c", "a", "b", "e", "g", "f", "k", "h", "i"]
    assert searched(experiment, ["metrics.rmse DESC", "params.p ASC"], 3) == expected


def test_an_mlflow_offset_token_is_still_honoured(experiment: int) -> None:
    records, token = search_runs(
        [str(experiment)], "", "ACTIVE_ONLY", 3, ["metrics.rmse DESC"], encode_page_token(4)
    )
    assert [r.run.run_uuid for r in records] == DESCENDING[4:7]
    records, _ = search_runs([str(experiment)], "", "ACTIVE_ONLY", 3, ["metrics.rmse DESC"], token)
    assert [r.run.run_uuid for r in records] == DESCENDING[7:10]


def test_a_token_for_another_search_or_tampered_with_is_refused(experiment: int) -> None:
    _, token = search_runs([str(experiment)], "", "ACTIVE_ONLY", 2, ["metrics.rmse DESC"])
    assert token is not None
    with pytest.raises(InvalidParameter, match="another search"):
        search_runs([str(experiment)], "", "ACTIVE_ONLY", 2, ["params.p DESC"], token)
    payload = json.loads(base64.b64decode(token))
    good = payload["after"]
    too_big = [good[0], 10**30, *good[2:]]  # beyond what the database binds: not a 500
    for after in ([0, "not a number", 9, "b"], [7, 1.0, 9, "b"], [0, 1.0], "x", [True], too_big):
        forged = base64.b64encode(json.dumps({**payload, "after": after}).encode()).decode()
        with pytest.raises(InvalidParameter, match="page token"):
            search_runs([str(experiment)], "", "ACTIVE_ONLY", 2, ["metrics.rmse DESC"], forged)


def test_a_filter_one_run_in_twenty_matches_pages_newest_first(db_url: str) -> None:
    # A page of 3 probes the newest 32 runs (about 1.6 matches), then 256 (enough), and past
    # the probe cap collects the matches: every page is the filter's next runs, newest first.
    database: peewee.Database = open_database(db_url)
    with database.connection_context():
        exp = Experiment.create(
            name="rare", artifact_location="file:///r", creation_time=1, last_update_time=1
        )
        for n in range(300):
            _run(exp, f"r{n:03d}", float(n), 1000 + n, "hit" if n % 20 == 7 else "miss")
        expected = [f"r{n:03d}" for n in range(299, -1, -1) if n % 20 == 7]

        assert paged(exp.experiment_id, "attributes.start_time DESC", 3, "params.p = 'hit'") == (
            expected
        )
    close_all = getattr(database, "close_all", None)
    if close_all is not None:
        close_all()


@pytest.mark.parametrize("per_page", [1, 4, 50])
def test_metric_order_where_other_experiments_log_the_key_first(
    experiment: int, db_url: str, per_page: int
) -> None:
    # Two larger experiments log rmse too, with values that sort before every one of this
    # experiment's in either direction (and NaNs, and runs without it): the walk of the
    # (experiment_id, key, value) index never meets them, and no page holds one.
    for name, sign in (("higher", 1), ("lower", -1)):
        exp = Experiment.create(
            name=name, artifact_location="file:///o", creation_time=1, last_update_time=1
        )
        for n in range(40):
            rmse = math.nan if n % 10 == 3 else None if n % 10 == 5 else sign * (1e6 + n)
            _run(exp, f"{name}-{n:02d}", rmse, n, "x")
    if db_url.startswith("postgres"):
        peewee_db = Run._meta.database
        peewee_db.execute_sql("ANALYZE runs")
        peewee_db.execute_sql("ANALYZE latest_metrics")
    assert searched(experiment, ["metrics.rmse DESC"], per_page) == DESCENDING
    assert searched(experiment, ["metrics.rmse ASC"], per_page) == ASCENDING
    assert paged(experiment, "metrics.rmse DESC", per_page) == DESCENDING
    x_runs = [run for run in DESCENDING if RUNS[run][2] == "x"]
    assert searched(experiment, ["metrics.rmse DESC"], per_page, "params.p = 'x'") == x_runs
    assert searched(experiment, ["metrics.rmse ASC"], per_page, "metrics.rmse > 0") == [
        "b",
        "a",
        "c",
        "d",
    ]
