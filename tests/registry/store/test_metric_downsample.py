"""Downsampled metric histories for the chart grid and compare, on every engine."""

from __future__ import annotations

import math

from registry.store.metric_downsample import downsampled_histories, metric_keys
from registry.store.metrics import MetricPoint
from registry.store.run_data import log_batch
from tests.factories import make_experiment, make_run


def test_long_histories_keep_their_extremes_in_step_order(bound: None) -> None:
    experiment = make_experiment()
    spiky, flat, other = (make_run(experiment) for _ in range(3))
    values = [math.sin(step / 50) for step in range(1000)]
    values[517] = 9.5  # one spike and one dip inside what becomes a bucket
    values[730] = -7.25
    log_batch(
        spiky.run_uuid, metrics=[MetricPoint("loss", v, 1000 + s, s) for s, v in enumerate(values)]
    )
    log_batch(flat.run_uuid, metrics=[MetricPoint("loss", 1.0, 5, s) for s in range(0, 1000, 3)])
    log_batch(other.run_uuid, metrics=[MetricPoint(k, 0.5, 5, 0) for k in ("acc", "loss")])

    series = downsampled_histories([spiky.run_uuid, flat.run_uuid], ["loss"], points=100)

    assert set(series) == {"loss"}  # only the asked key, only the asked runs
    assert set(series["loss"]) == {spiky.run_uuid, flat.run_uuid}
    line = series["loss"][spiky.run_uuid]
    assert len(line["value"]) <= 100, line["step"]
    assert max(line["value"]) == 9.5 and min(line["value"]) == -7.25
    assert line["step"] == sorted(line["step"])
    assert line["step"][0] == 0 and line["step"][-1] == 999
    assert len(line["time"]) == len(line["step"]) == len(line["value"])
    assert set(series["loss"][flat.run_uuid]["value"]) == {1.0}


def test_short_histories_come_back_point_for_point(bound: None) -> None:
    run = make_run()
    points = [MetricPoint("f1", v, 100 + s, s) for s, v in enumerate([0.2, math.nan, 0.4])]
    log_batch(run.run_uuid, metrics=[*points, MetricPoint("best_iteration", 42, 7, 0)])

    series = downsampled_histories([run.run_uuid], ["f1", "best_iteration", "absent"])

    assert series["f1"][run.run_uuid] == {
        "step": [0, 1, 2],
        "time": [100, 101, 102],
        "value": [0.2, None, 0.4],  # NaN is a gap, not a value
    }
    assert series["best_iteration"][run.run_uuid]["value"] == [42]
    assert "absent" not in series
    assert metric_keys([run.run_uuid]) == ["best_iteration", "f1"]
    assert downsampled_histories([], ["f1"]) == {}
