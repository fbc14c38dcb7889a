"""Downsampled histories kept between chart views: current while the run logs nothing new."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any, cast

import orjson

from registry.store.metric_downsample import downsampled_history
from registry.store.metric_previews import preview_histories
from registry.store.metrics import MetricPoint
from registry.store.models import MetricPreview
from registry.store.purge import purge_rows
from registry.store.run_data import log_batch
from tests.factories import make_experiment, make_run


def _served(run_ids: list[str], key: str, points: int, with_time: bool) -> dict[str, Any]:
    """What the chart's JSON carries for these runs (the fragments decoded)."""
    served: dict[str, Any] = orjson.loads(
        orjson.dumps(preview_histories(run_ids, key, points, with_time))
    )
    return served


def _stored(run_ids: list[str]) -> dict[tuple[str, str, int, bool], int]:
    """The stored previews of these runs: their point counts."""
    rows = cast(
        Iterable[tuple[str, str, int, bool, int]],
        MetricPreview.select(
            MetricPreview.run,
            MetricPreview.key,
            MetricPreview.points,
            MetricPreview.timed,
            MetricPreview.size,
        )
        .where(MetricPreview.run.in_(run_ids))
        .tuples(),
    )
    return {(run, key, points, bool(timed)): size for run, key, points, timed, size in rows}


def _log(run_id: str, steps: range, key: str = "loss", offset: float = 0.0) -> None:
    points = [MetricPoint(key, math.sin(s / 30) + offset, 1000 + s, s) for s in steps]
    log_batch(run_id, metrics=points)


def test_a_preview_is_the_downsampled_history_and_is_kept(bound: None) -> None:
    experiment = make_experiment()
    runs = [make_run(experiment).run_uuid for _ in range(3)]
    for n, run_id in enumerate(runs):
        _log(run_id, range(0, 400 + n * 100), offset=n)
    _log(runs[0], range(5), key="other")
    ids = [*runs, make_run(experiment).run_uuid]  # the last run logged nothing

    served = _served(ids, "loss", 40, False)

    assert served == downsampled_history(ids, "loss", 40, with_time=False)
    assert set(served) == set(runs)  # a run without the key gets no line
    assert _stored(runs) == {(run, "loss", 40, False): 400 + n * 100 for n, run in enumerate(runs)}
    # Served again from what was stored, the same answer; other widths and timestamps are their
    # own previews.
    assert _served(ids, "loss", 40, False) == served
    assert _served(ids, "loss", 60, True) == downsampled_history(ids, "loss", 60, with_time=True)
    assert len(_stored(runs)) == 6


def test_a_run_that_logs_more_is_redrawn_and_the_others_are_not(bound: None) -> None:
    experiment = make_experiment()
    growing, finished = make_run(experiment).run_uuid, make_run(experiment).run_uuid
    _log(growing, range(300))
    _log(finished, range(300))
    _served([growing, finished], "loss", 40, False)

    _log(growing, range(300, 700))  # the run goes on: 400 more steps, a new low at the end
    log_batch(growing, metrics=[MetricPoint("loss", -50.0, 1, 700)])
    served = _served([growing, finished], "loss", 40, False)

    assert served == downsampled_history([growing, finished], "loss", 40, with_time=False)
    line = served[growing]
    assert line["step"][-1] == 700 and min(line["value"]) == -50.0
    assert _stored([growing])[(growing, "loss", 40, False)] == 701
    assert _stored([finished])[(finished, "loss", 40, False)] == 300


def test_a_preview_that_does_not_match_the_stored_points_is_never_served(bound: None) -> None:
    run_id = make_run().run_uuid
    _log(run_id, range(200))
    _served([run_id], "loss", 40, False)
    # A preview whose count is not the run's (as if drawn before its last points) is redrawn.
    MetricPreview.update(size=150, body='{"step":[0],"value":[123.0]}').where(
        MetricPreview.run == run_id
    ).execute()

    assert _served([run_id], "loss", 40, False) == downsampled_history([run_id], "loss", 40, False)
    assert _stored([run_id])[(run_id, "loss", 40, False)] == 200


def test_previews_go_with_their_run(bound: None) -> None:
    experiment = make_experiment()
    kept, purged = make_run(experiment).run_uuid, make_run(experiment).run_uuid
    _log(kept, range(100))
    _log(purged, range(100))
    _served([kept, purged], "loss", 20, False)

    purge_rows(model_ids=[], run_ids=[purged], experiment_ids=[])

    assert set(run for run, *_ in _stored([kept, purged])) == {kept}
    assert set(_served([kept, purged], "loss", 20, False)) == {kept}


def test_a_batch_sent_twice_keeps_the_preview_right_and_then_current(bound: None) -> None:
    # PostgreSQL stores a large batch sent twice twice (its history shows it once): the stored
    # count moves, the preview is redrawn the same, then served as stored.
    run_id = make_run().run_uuid
    _log(run_id, range(300))
    first = _served([run_id], "loss", 40, False)
    _log(run_id, range(300))

    assert _served([run_id], "loss", 40, False) == first
    size = _stored([run_id])[(run_id, "loss", 40, False)]
    assert size in (300, 600)  # 600 where the batch is stored packed, twice
    MetricPreview.update(body='{"step":[0],"value":[123.0]}').where(
        MetricPreview.run == run_id
    ).execute()
    # Served from what was stored: the count it was stored with is the run's count.
    assert _served([run_id], "loss", 40, False)[run_id] == {"step": [0], "value": [123.0]}


def test_a_point_linked_to_a_model_after_a_duplicate_batch_keeps_previews_current(
    bound: None,
) -> None:
    # A batch stored twice, one of its points logged again with a model, then a new point:
    # the preview drawn before must not come back as current.
    run_id = make_run().run_uuid
    _log(run_id, range(300))
    _log(run_id, range(300))
    _served([run_id], "loss", 40, False)
    log_batch(run_id, metrics=[MetricPoint("loss", math.sin(5 / 30), 1005, 5, model_id="m-1")])
    log_batch(run_id, metrics=[MetricPoint("loss", -9.0, 1, 300)])

    served = _served([run_id], "loss", 40, False)
    assert served == downsampled_history([run_id], "loss", 40, with_time=False)
    assert served[run_id]["step"][-1] == 300
