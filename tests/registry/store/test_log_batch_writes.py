"""log-batch's bulk write path on every engine: multi-row statements, one latest-value upsert,
params inserted before they are read, and a failing batch that leaves nothing behind."""

from __future__ import annotations

import math
import threading

import peewee
import pytest

from registry.errors import InvalidParameter
from registry.store import bulk, db, engine_name, write_transaction
from registry.store import metrics as store
from registry.store.metrics import MetricPoint
from registry.store.models import LatestMetric, MetricHistory, Param, RunTag
from registry.store.run_data import log_batch
from registry.store.runs import get_run
from registry.wire.tracking import LogBatchSchema, MetricColumns
from tests.factories import make_run


def _history(run_id: str) -> list[tuple[str, int, float]]:
    rows = MetricHistory.select().where(MetricHistory.run == run_id)
    return sorted((row.key, row.step, row.value) for row in rows)


def _latest(run_id: str) -> dict[str, tuple[int, int, float]]:
    rows = LatestMetric.select().where(LatestMetric.run == run_id)
    return {row.key: (row.step, row.timestamp, row.value) for row in rows}


def test_a_batch_larger_than_one_statement_is_stored_whole_and_once(bound: None) -> None:
    run = make_run()
    per_statement = bulk._rows_per_statement(engine_name(), 6)
    count = per_statement + 7
    points = [MetricPoint(f"k{i % 3}", float(i), 1, i) for i in range(count)]
    with write_transaction():
        store.insert_points(run.run_uuid, run.experiment_id, points)
        store.insert_points(
            run.run_uuid, run.experiment_id, points[:10]
        )  # identical points are stored once
    assert len(_history(run.run_uuid)) == count
    newest = {f"k{i % 3}": (i, 1, float(i)) for i in range(count)}
    assert _latest(run.run_uuid) == newest


def test_a_large_batch_part_stored_stores_only_the_new_points_and_the_rest_of_the_batch(
    bound: None,
) -> None:
    # On PostgreSQL a large batch is tried as a plain INSERT first; a stored point in it, or
    # the same point twice within it, must still be skipped and the transaction go on.
    run = make_run()
    size = bulk.UNNEST_MIN_ROWS * 2
    first = [MetricPoint("m", float(i), 1, i) for i in range(size)]
    again = first[size // 2 :] + [MetricPoint("m", float(i), 1, i) for i in range(size, size * 2)]
    twice = [MetricPoint("n", 1.0, 1, i % bulk.UNNEST_MIN_ROWS) for i in range(size)]
    with write_transaction():
        store.insert_points(run.run_uuid, run.experiment_id, first)
        store.insert_points(run.run_uuid, run.experiment_id, again)
        store.insert_points(run.run_uuid, run.experiment_id, twice)
        log_batch(run.run_uuid, params=[("after", "1")])
    expected = [("m", i, float(i)) for i in range(size * 2)]
    expected += [("n", i, 1.0) for i in range(bulk.UNNEST_MIN_ROWS)]
    assert _history(run.run_uuid) == sorted(expected)
    assert [p.key for p in Param.select().where(Param.run == run.run_uuid)] == ["after"]


@pytest.mark.parametrize("db_url", ["sqlite", "postgres"], indirect=True)
def test_a_large_batch_for_a_missing_run_is_refused_and_stores_nothing(bound: None) -> None:
    # (log_batch checks the run first; MariaDB's INSERT IGNORE would turn this into a warning.)
    points = [MetricPoint("m", float(i), 1, i) for i in range(bulk.UNNEST_MIN_ROWS * 2)]
    with pytest.raises(peewee.IntegrityError), write_transaction():
        store.insert_points("0" * 32, 0, points)
    assert _history("0" * 32) == []


def test_one_upsert_keeps_the_newer_stored_point_and_takes_newer_ones(bound: None) -> None:
    run = make_run()
    log_batch(run.run_uuid, metrics=[MetricPoint("a", 5.0, 10, 5), MetricPoint("b", 1.0, 10, 5)])
    log_batch(
        run.run_uuid,
        metrics=[
            MetricPoint("a", 9.0, 99, 4),  # lower step: older, kept out
            MetricPoint("b", 0.5, 11, 5),  # same step, later timestamp: newer
            MetricPoint("c", 2.0, 1, 0),  # new key
            MetricPoint("c", 3.0, 1, 0),  # same step and time, higher value: the newest c
        ],
    )
    assert _latest(run.run_uuid) == {"a": (5, 10, 5.0), "b": (5, 11, 0.5), "c": (0, 1, 3.0)}
    assert {m.key: m.value for m in get_run(run.run_uuid).metrics} == {"a": 5.0, "b": 0.5, "c": 3.0}


def test_a_changed_param_rolls_back_the_whole_batch(bound: None) -> None:
    run = make_run(params={"p": "1"})
    with pytest.raises(InvalidParameter, match="Changing param values is not allowed"):
        log_batch(
            run.run_uuid,
            metrics=[MetricPoint("m", 1.0, 1, s) for s in range(50)],
            params=[("new", "x"), ("p", "2")],
            tags=[("t", "v")],
        )
    assert _history(run.run_uuid) == []
    assert _latest(run.run_uuid) == {}
    assert [(p.key, p.value) for p in Param.select().where(Param.run == run.run_uuid)] == [
        ("p", "1")
    ]
    assert not RunTag.select().where(RunTag.run == run.run_uuid, RunTag.key == "t").exists()
    log_batch(run.run_uuid, params=[("p", "1"), ("new", "x")])  # the same value again is fine
    assert {p.key for p in Param.select().where(Param.run == run.run_uuid)} == {"p", "new"}


def test_a_changed_param_among_many_is_refused_and_the_same_values_pass(bound: None) -> None:
    # Enough params for PostgreSQL's savepointed bulk path: the count it returns is what tells
    # a batch that met stored keys (read back and compared) from one that stored every row.
    many = [(f"p{i:02d}", str(i)) for i in range(bulk.UNNEST_MIN_ROWS + 5)]
    run = make_run(params={"p07": "7"})
    with pytest.raises(InvalidParameter, match="p07"):
        log_batch(run.run_uuid, params=[*many[:7], ("p07", "changed"), *many[8:]])
    assert [(p.key, p.value) for p in Param.select().where(Param.run == run.run_uuid)] == [
        ("p07", "7")
    ]
    log_batch(run.run_uuid, params=many)  # the stored one again, with its value: fine
    stored = Param.select(Param.key, Param.value).where(Param.run == run.run_uuid).tuples()
    assert sorted(stored) == many


@pytest.mark.parametrize("db_url", ["sqlite", "postgres"], indirect=True)
def test_a_metric_the_database_refuses_late_leaves_nothing_of_its_batch(bound: None) -> None:
    # The bad point is the last row of the second INSERT: the first statement's rows, the
    # params and the tags written before it all go with the transaction. (MariaDB is left out:
    # its INSERT IGNORE turns an out-of-range value into a warning and a clamped value.)
    run = make_run()
    per_statement = bulk._rows_per_statement(engine_name(), 6)
    points = [MetricPoint("m", float(i), 1, i) for i in range(per_statement + 5)]
    points.append(MetricPoint("m", 1.0, 1, 2**63))
    with pytest.raises((peewee.DatabaseError, OverflowError)), write_transaction():
        log_batch(run.run_uuid, params=[("p", "1")], tags=[("t", "v")])
        store.insert_points(run.run_uuid, run.experiment_id, points)
    assert _history(run.run_uuid) == []
    assert _latest(run.run_uuid) == {}
    assert not Param.select().where(Param.run == run.run_uuid).exists()


def test_concurrent_batches_of_one_run_keep_every_point(bound: None) -> None:
    run = make_run()
    database = db.obj
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def write(writer: int) -> None:
        try:
            with database.connection_context():
                barrier.wait()
                points = [MetricPoint(f"k{i % 5}", float(writer), writer, i) for i in range(200)]
                log_batch(run.run_uuid, metrics=points)
        except BaseException as err:  # surfaced below
            errors.append(err)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(_history(run.run_uuid)) == 800
    # Each key's newest point: its highest step (199 - ...), then the highest timestamp (3).
    latest = _latest(run.run_uuid)
    assert {key: value[:2] for key, value in latest.items()} == {
        f"k{k}": (195 + k, 3) for k in range(5)
    }


_AWKWARD_TEXT = ["a,b", "{x,y}", '"quoted"', "it's", "back\\slash", "NULL", "", " ", "ünï·code"]
_AWKWARD_FLOATS = [
    0.1 + 0.2,
    -0.0,
    5e-324,
    1.7976931348623157e308,
    -1e-300,
    123456789.12345679,
    float("nan"),
    float("inf"),
    float("-inf"),
]
_INT64 = (-(2**63), 2**63 - 1)


def _stored(run_id: str) -> tuple[list[tuple[object, ...]], object, object, object]:
    points: list[tuple[object, ...]] = [
        (m.key, repr(m.value), m.value_kind, m.timestamp, m.step, m.model_id, m.dataset_name)
        for m in MetricHistory.select().where(MetricHistory.run == run_id)
    ]
    points.sort(key=repr)
    params = {p.key: p.value for p in Param.select().where(Param.run == run_id)}
    tags = {t.key: t.value for t in RunTag.select().where(RunTag.run == run_id)}
    del tags["mlflow.runName"]  # each run's own
    latest = {
        row.key: (repr(row.value), row.value_kind, row.timestamp, row.step)
        for row in LatestMetric.select().where(LatestMetric.run == run_id)
    }
    return points, params, tags, latest


def test_a_large_batch_stores_exactly_what_one_entry_at_a_time_stores(bound: None) -> None:
    # A large batch takes the bulk path (on PostgreSQL, columns sent as arrays); one entry per
    # call takes the single-row path. Awkward text, float edge values, the int64 bounds, links
    # (nullable columns), duplicates and overwritten tags must come out the same.
    keys = ["loss", "a b", "x:y/z", "k.1-2_", "ünï"]
    points = [
        MetricPoint(
            keys[i % len(keys)],
            _AWKWARD_FLOATS[i % len(_AWKWARD_FLOATS)],
            _INT64[i % 2] if i % 7 == 0 else 1000 + i,
            _INT64[(i + 1) % 2] if i % 11 == 0 else i // 3,
            dataset_name=_AWKWARD_TEXT[i % len(_AWKWARD_TEXT)] or None if i % 5 == 0 else None,
        )
        for i in range(120)
    ]
    points += points[:10]  # identical points: stored once
    params = [(f"p{i}", _AWKWARD_TEXT[i % len(_AWKWARD_TEXT)] * (i % 3)) for i in range(40)]
    tags = [(f"t{i}", _AWKWARD_TEXT[i % len(_AWKWARD_TEXT)] + str(i)) for i in range(30)]
    old_tags = {key: "old" for key, _ in tags[::2]}
    whole, single = make_run(tags=old_tags), make_run(tags=old_tags)
    log_batch(whole.run_uuid, metrics=points, params=params, tags=tags)
    for point in points:
        log_batch(single.run_uuid, metrics=[point])
    for param in params:
        log_batch(single.run_uuid, params=[param])
    for tag in tags:
        log_batch(single.run_uuid, tags=[tag])
    stored = _stored(whole.run_uuid)
    assert len(stored[0]) == 120
    assert stored == _stored(single.run_uuid)


def _decoded(items: list[dict[str, object]]) -> MetricColumns:
    metrics = LogBatchSchema().load({"run_id": "r", "metrics": items})["metrics"]
    # What a client's plain batch decodes to: the columns, with no point built.
    assert type(metrics) is MetricColumns
    return metrics


def test_a_decoded_plain_batch_stores_exactly_what_one_point_at_a_time_stores(bound: None) -> None:
    # The batch as log-batch decodes it (columns) against each point logged on its own:
    # float edge values, ints for values, the int64 bounds, identical points, and ties on
    # (step, timestamp) where the value decides, or the values are equal (0.0 and -0.0).
    finite = [value for value in _AWKWARD_FLOATS if math.isfinite(value)]
    keys = ["loss", "a b", "x:y/z", "k.1-2_", "ünï"]
    items: list[dict[str, object]] = [
        {
            "key": keys[i % len(keys)],
            "value": finite[i % len(finite)] if i % 4 else i - 50,
            "timestamp": _INT64[i % 2] if i % 7 == 0 else 1000 + i // 5,
            "step": _INT64[(i + 1) % 2] if i % 11 == 0 else i // 10,
        }
        for i in range(120)
    ]
    items += items[:10]
    items += [
        {"key": "tie", "value": 2.0, "timestamp": 5, "step": 1},
        {"key": "tie", "value": 1.0, "timestamp": 5, "step": 1},
        {"key": "zero", "value": -0.0, "timestamp": 5, "step": 1},
        {"key": "zero", "value": 0.0, "timestamp": 5, "step": 1},
        {"key": "zero", "value": -0.0, "timestamp": 4, "step": 1},
    ]
    whole, single = make_run(), make_run()
    points = _decoded(items)
    log_batch(whole.run_uuid, metrics=points)
    for point in points:
        log_batch(single.run_uuid, metrics=[point])
    stored = _stored(whole.run_uuid)
    assert len(stored[0]) == 124
    assert stored == _stored(single.run_uuid)
    assert stored[3]["tie"] == ("2.0", 0, 5, 1)


def test_a_batch_of_columns_with_non_finite_values_stores_what_a_list_stores(bound: None) -> None:
    values = [1.5, math.nan, math.inf, -math.inf, -0.0, 1.7976931348623157e308] * 5
    steps = [i // 6 for i in range(30)]
    columns = MetricColumns(["m", "n", "o"] * 10, values, [7] * 30, steps)
    in_columns, in_list = make_run(), make_run()
    log_batch(in_columns.run_uuid, metrics=columns)
    log_batch(in_list.run_uuid, metrics=list(columns))
    assert len(_stored(in_columns.run_uuid)[0]) == 30
    assert _stored(in_columns.run_uuid) == _stored(in_list.run_uuid)


def test_a_decoded_batch_with_bad_keys_is_refused_for_the_first_and_stores_nothing(
    bound: None,
) -> None:
    run = make_run()
    items: list[dict[str, object]] = [
        {"key": key, "value": 1.0, "timestamp": 1, "step": 0}
        for key in ["ok", "ok", "bad/../key", "ok", "", "x" * 300]
    ]
    with pytest.raises(InvalidParameter) as from_columns:
        log_batch(run.run_uuid, metrics=_decoded(items), params=[("p", "1")])
    with pytest.raises(InvalidParameter) as from_list:
        log_batch(run.run_uuid, metrics=list(_decoded(items)), params=[("p", "1")])
    assert str(from_columns.value) == str(from_list.value)
    assert "Invalid metric name: 'bad/../key'" in str(from_columns.value)
    assert _history(run.run_uuid) == []
    assert not Param.select().where(Param.run == run.run_uuid).exists()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_columns_larger_than_one_statement_are_stored_whole_and_once(bound: None) -> None:
    # SQLite binds the run id and the value kind once per statement, the rest once per row.
    run = make_run()
    count = (bulk._sqlite_variable_limit() - 2) // 4 + 3
    columns = MetricColumns(
        [f"k{i % 3}" for i in range(count)],
        [float(i) for i in range(count)],
        [1] * count,
        list(range(count)),
    )
    with write_transaction():
        store.insert_points(run.run_uuid, run.experiment_id, columns)
        store.insert_points(run.run_uuid, run.experiment_id, columns[:10])
    assert len(_history(run.run_uuid)) == count
    newest = {f"k{i % 3}": (i, 1, float(i)) for i in range(count - 3, count)}
    assert _latest(run.run_uuid) == newest
