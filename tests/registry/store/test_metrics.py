"""Metric history and latest values on every engine, including concurrent writers."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable

import pytest

from registry.errors import InvalidParameter, NotFound
from registry.store import db
from registry.store import metrics as store
from registry.store.metrics import MetricPoint
from registry.store.run_data import log_batch, log_param
from registry.store.runs import get_run
from tests.factories import make_run


def _latest(run_id: str) -> dict[str, tuple[float, int, int]]:
    return {
        m.key: (store.logged_value(m.value, m.value_kind), m.timestamp, m.step)
        for m in get_run(run_id).metrics
    }


def test_history_is_append_only_and_deduplicated(bound: None) -> None:
    run = make_run()
    store.log_metric(run.run_uuid, MetricPoint("loss", 0.5, 100, 0))
    store.log_metric(run.run_uuid, MetricPoint("loss", 0.5, 100, 0))
    store.log_metric(run.run_uuid, MetricPoint("loss", 0.7, 100, 0))
    rows, token = store.get_metric_history(run.run_uuid, "loss")
    assert sorted(r.value for r in rows) == [0.5, 0.7]
    assert token is None


def test_latest_is_highest_step_then_timestamp(bound: None) -> None:
    run = make_run()
    store.log_metric(run.run_uuid, MetricPoint("acc", 0.9, 500, 5))
    store.log_metric(run.run_uuid, MetricPoint("acc", 0.1, 900, 4))
    assert _latest(run.run_uuid)["acc"] == (0.9, 500, 5)
    store.log_metric(run.run_uuid, MetricPoint("acc", 0.8, 600, 5))
    assert _latest(run.run_uuid)["acc"] == (0.8, 600, 5)
    log_batch(run.run_uuid, metrics=[MetricPoint("acc", v, 1, s) for s, v in [(7, 0.3), (6, 0.2)]])
    assert _latest(run.run_uuid)["acc"] == (0.3, 1, 7)


def test_non_finite_values_round_trip(bound: None) -> None:
    run = make_run()
    for step, value in enumerate([math.nan, math.inf, -math.inf, 1.5]):
        store.log_metric(run.run_uuid, MetricPoint("x", value, 1, step))
    rows, _ = store.get_metric_history(run.run_uuid, "x")
    values = [store.logged_value(r.value, r.value_kind) for r in rows]
    assert math.isnan(values[0])
    assert values[1:] == [math.inf, -math.inf, 1.5]


def test_history_pages_in_step_order(bound: None) -> None:
    run = make_run()
    log_batch(run.run_uuid, metrics=[MetricPoint("m", float(s), 1, s) for s in reversed(range(7))])
    seen: list[int] = []
    token = None
    while True:
        rows, token = store.get_metric_history(run.run_uuid, "m", 3, token)
        seen.extend(r.step for r in rows)
        if token is None:
            break
    assert seen == list(range(7))
    with pytest.raises(NotFound):
        store.get_metric_history("f" * 32, "m")


def _in_threads(count: int, work: Callable[[int], None]) -> list[BaseException]:
    errors: list[BaseException] = []
    barrier = threading.Barrier(count)

    def target(index: int) -> None:
        with db.connection_context():
            barrier.wait()
            try:
                work(index)
            except BaseException as err:
                errors.append(err)

    threads = [threading.Thread(target=target, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def test_concurrent_writers_keep_every_point_and_the_right_latest(bound: None) -> None:
    run = make_run()

    def work(index: int) -> None:
        for i in range(15):
            step = index * 15 + i
            store.log_metric(run.run_uuid, MetricPoint("loss", float(step), 1000 + i, step))
            store.log_metric(run.run_uuid, MetricPoint(f"first-{i}", float(index), 1, index))

    assert _in_threads(6, work) == []
    rows, _ = store.get_metric_history(run.run_uuid, "loss")
    assert sorted(r.step for r in rows) == list(range(90))
    latest = _latest(run.run_uuid)
    assert latest["loss"] == (89.0, 1014, 89)
    assert all(latest[f"first-{i}"] == (5.0, 1, 5) for i in range(15))


def test_concurrent_conflicting_params_one_value_wins(bound: None) -> None:
    run = make_run()
    errors = _in_threads(4, lambda index: log_param(run.run_uuid, "lr", str(index)))
    assert len(errors) == 3
    assert all(isinstance(err, InvalidParameter) for err in errors)
    assert len(get_run(run.run_uuid).params) == 1
