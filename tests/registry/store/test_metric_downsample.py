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


def test_the_last_point_and_each_extreme_are_drawn_where_they_were_logged(bound: None) -> None:
    run, wavy = make_run(), make_run()
    values = [5.0] * 997 + [0.0, 9.0, 1.0]
    log_batch(run.run_uuid, metrics=[MetricPoint("m", v, 10 + s, s) for s, v in enumerate(values)])
    wave = [math.sin(step / 50) for step in range(1000)]
    wave[517], wave[730] = 9.5, -7.25
    log_batch(wavy.run_uuid, metrics=[MetricPoint("m", v, 10 + s, s) for s, v in enumerate(wave)])

    series = downsampled_histories([run.run_uuid, wavy.run_uuid], ["m"], points=10)["m"]

    line = series[run.run_uuid]
    assert len(line["value"]) <= 10 and line["step"] == sorted(line["step"])
    logged = dict(enumerate(values))
    assert all(logged[s] == v for s, v in zip(line["step"], line["value"], strict=True))
    assert (line["step"][0], line["value"][0]) == (0, 5.0)
    assert (line["step"][-1], line["value"][-1]) == (999, 1.0)  # the run's latest value
    assert (998, 9.0) in zip(line["step"], line["value"], strict=True)  # the spike, at its own step
    assert line["time"][line["step"].index(998)] == 10 + 998
    drawn = dict(zip(series[wavy.run_uuid]["step"], series[wavy.run_uuid]["value"], strict=True))
    assert drawn[517] == 9.5 and drawn[730] == -7.25


def test_points_at_few_or_negative_steps_are_cut_evenly_and_keep_their_spikes(
    bound: None,
) -> None:
    runs = [make_run() for _ in range(3)]
    for number, run in enumerate(runs):
        # 3,000 points: all at step 0 (timestamps apart), or at steps -3,000..-1.
        steps = [0] * 3000 if number < 2 else list(range(-3000, 0))
        values = [1.0] * 3000
        values[1234] = 50.0 + number
        pairs = enumerate(zip(steps, values, strict=True))
        metrics = [MetricPoint("m", v, 1000 + i, s) for i, (s, v) in pairs]
        for start in range(0, 3000, 1000):  # a batch holds at most 1,000 metrics
            log_batch(run.run_uuid, metrics=metrics[start : start + 1000])

    series = downsampled_histories([r.run_uuid for r in runs], ["m"], points=40)["m"]

    for number, run in enumerate(runs):
        line = series[run.run_uuid]
        assert len(line["value"]) <= 40
        assert max(line["value"]) == 50.0 + number  # never thinned away
        assert line["time"] == sorted(line["time"])
        assert line["time"][0] == 1000 and line["time"][-1] == 1000 + 2999
        assert line["time"][line["value"].index(50.0 + number)] == 1000 + 1234
    assert series[runs[2].run_uuid]["step"][0] == -3000


def test_a_nan_or_infinity_in_a_long_history_is_a_gap_never_an_extreme(bound: None) -> None:
    run = make_run()
    values = [float(step % 7) for step in range(1000)]
    values[10], values[11], values[500] = math.nan, math.inf, -math.inf
    values[20] = 99.0  # the same high twice in one tile: the later one is drawn
    values[21] = 99.0
    points = [MetricPoint("m", v, 100 + s, s) for s, v in enumerate(values)]
    log_batch(run.run_uuid, metrics=points)

    line = downsampled_histories([run.run_uuid], ["m"], points=40, with_time=False)["m"]

    drawn = dict(zip(line[run.run_uuid]["step"], line[run.run_uuid]["value"], strict=True))
    assert drawn[10] is None and drawn[11] is None and drawn[500] is None  # gaps where logged
    assert 21 in drawn and 20 not in drawn and drawn[21] == 99.0
    finite = [v for v in drawn.values() if v is not None]
    assert min(finite) == 0.0 and max(finite) == 99.0
    assert len(drawn) <= 40 and list(drawn) == sorted(drawn)
    assert drawn[999] == 999 % 7  # the latest value ends the line
