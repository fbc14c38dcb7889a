"""Large log-batches (packed on PostgreSQL, rows elsewhere) read back as every other history."""

from __future__ import annotations

import pytest

from registry.store import db, engine_name
from registry.store.logged_models import create_logged_model, get_logged_model
from registry.store.metric_batches import PACK_MIN_POINTS
from registry.store.metric_history_bulk import get_history_bulk, get_history_bulk_interval
from registry.store.metrics import get_metric_history, log_metric
from registry.store.models import MetricHistory, Run
from registry.store.run_data import log_batch
from registry.store.runs import get_run
from registry.wire.tracking import MetricColumns, MetricPoint
from tests.factories import make_run

KEYS = ("loss", "acc", "a b:c/d ünï")


def _batch(first_step: int, steps: int) -> MetricColumns:
    """A plain batch as a client's decodes: every key at each of ``steps`` steps."""
    keys, values, timestamps, steps_ = [], [], [], []
    for step in range(first_step, first_step + steps):
        for number, key in enumerate(KEYS):
            keys.append(key)
            values.append(step / 7 + number)
            timestamps.append(1_000 + step)
            steps_.append(step)
    return MetricColumns(keys, values, timestamps, steps_)


def _history(run_id: str, key: str) -> list[tuple[int, int, float]]:
    rows, token = get_metric_history(run_id, key)
    assert token is None
    return [(row.step, row.timestamp, row.value) for row in rows]


def _packed_rows(run_id: str, where: str = "true") -> int:
    if engine_name() != "postgresql":
        return 0
    cursor = db.execute_sql(
        f"SELECT count(*) FROM metric_batches WHERE run_id = %s AND {where}", (run_id,)
    )
    return int(cursor.fetchone()[0])


def test_a_large_batch_sent_twice_reads_back_once_in_step_order(bound: None) -> None:
    run = make_run()
    batch = _batch(0, PACK_MIN_POINTS)
    log_batch(run.run_uuid, metrics=batch)
    log_batch(run.run_uuid, metrics=batch)  # a client's retry
    expected = [(step, 1_000 + step, step / 7 + 2) for step in range(PACK_MIN_POINTS)]
    assert _history(run.run_uuid, KEYS[2]) == expected
    # PostgreSQL stored each batch as a row per key; the other engines a row per point.
    assert _packed_rows(run.run_uuid) == (2 * len(KEYS) if engine_name() == "postgresql" else 0)
    latest = {m.key: (m.step, m.value) for m in get_run(run.run_uuid).metrics}
    last = PACK_MIN_POINTS - 1
    assert latest == {key: (last, last / 7 + number) for number, key in enumerate(KEYS)}


def test_points_logged_alone_and_in_large_batches_form_one_history(bound: None) -> None:
    run = make_run()
    log_metric(run.run_uuid, MetricPoint("loss", 9.5, 5, -1))
    log_batch(run.run_uuid, metrics=_batch(0, PACK_MIN_POINTS))
    log_metric(run.run_uuid, MetricPoint("loss", 0.25, 1_050, 50))  # equal step, another value
    log_metric(run.run_uuid, MetricPoint("loss", 50 / 7, 1_050, 50))  # identical to a batch's
    history = _history(run.run_uuid, "loss")
    assert len(history) == PACK_MIN_POINTS + 2
    assert history[0] == (-1, 5, 9.5)
    assert history[51:53] == [(50, 1_050, 0.25), (50, 1_050, 50 / 7)]
    paged, token = get_metric_history(run.run_uuid, "loss", max_results=60)
    rest, end = get_metric_history(run.run_uuid, "loss", page_token=token)
    assert end is None
    assert [(r.step, r.timestamp, r.value) for r in paged + rest] == history


def test_bulk_reads_and_sampling_see_the_packed_points(bound: None) -> None:
    first, second = make_run(), make_run()
    log_batch(first.run_uuid, metrics=_batch(0, PACK_MIN_POINTS))
    log_batch(second.run_uuid, metrics=_batch(0, 2 * PACK_MIN_POINTS))
    ids = [first.run_uuid, second.run_uuid]
    points = get_history_bulk(ids, "acc", None)
    assert len(points) == 3 * PACK_MIN_POINTS
    assert {point.run_id for point in points} == set(ids)
    sampled = get_history_bulk_interval(ids, "acc", (None, None), 10)
    by_run: dict[str, list[int]] = {}
    for point in sampled:
        by_run.setdefault(point.run_id, []).append(point.step)
    # Each run's first and last step among the picks.
    assert by_run[first.run_uuid][0] == 0 and by_run[first.run_uuid][-1] == PACK_MIN_POINTS - 1
    assert by_run[second.run_uuid][-1] == 2 * PACK_MIN_POINTS - 1


def test_a_packed_point_logged_again_with_a_model_shows_once_with_the_model(bound: None) -> None:
    run = make_run()
    log_batch(run.run_uuid, metrics=_batch(0, PACK_MIN_POINTS))
    model = create_logged_model(str(run.experiment_id), source_run_id=run.run_uuid).model
    # What log_model does: the run's point again, now with its model.
    log_batch(run.run_uuid, metrics=[MetricPoint("loss", 3 / 7, 1_003, 3, model_id=model.model_id)])
    at_step_3 = [r for r in get_metric_history(run.run_uuid, "loss")[0] if r.step == 3]
    assert [(r.value, r.model_id) for r in at_step_3] == [(3 / 7, model.model_id)]
    assert [(m.key, m.step) for m in get_logged_model(model.model_id).metrics] == [("loss", 3)]
    # Which of two identical points the view keeps is not defined: the batch holding the
    # packed copy is marked, so that the view shows the row.
    shadowed = _packed_rows(run.run_uuid, "shadowed AND key = 'loss'")
    assert shadowed == (1 if engine_name() == "postgresql" else 0)
    assert _packed_rows(run.run_uuid, "shadowed AND key <> 'loss'") == 0


def test_a_point_logged_with_a_model_then_in_a_large_batch_keeps_its_model(bound: None) -> None:
    run = make_run()
    model = create_logged_model(str(run.experiment_id), source_run_id=run.run_uuid).model
    log_batch(run.run_uuid, metrics=[MetricPoint("loss", 3 / 7, 1_003, 3, model_id=model.model_id)])
    log_batch(run.run_uuid, metrics=_batch(0, PACK_MIN_POINTS))
    history, _ = get_metric_history(run.run_uuid, "loss")
    assert len(history) == PACK_MIN_POINTS
    assert [r.model_id for r in history if r.step == 3] == [model.model_id]
    # Stored while the run had rows of that key only: the other keys' batches are not marked.
    assert _packed_rows(run.run_uuid, "shadowed") == (1 if engine_name() == "postgresql" else 0)


def test_a_packed_point_logged_again_with_a_dataset_shows_once_with_it(bound: None) -> None:
    run = make_run()
    log_batch(run.run_uuid, metrics=_batch(0, PACK_MIN_POINTS))
    again = MetricPoint("acc", 5 / 7 + 1, 1_005, 5, dataset_name="eval", dataset_digest="d1")
    log_batch(run.run_uuid, metrics=[again])
    history, _ = get_metric_history(run.run_uuid, "acc")
    assert len(history) == PACK_MIN_POINTS
    at_step_5 = [(r.value, r.dataset_name, r.dataset_digest) for r in history if r.step == 5]
    # PostgreSQL shows the row with the dataset; a row store keeps the point first stored.
    linked = engine_name() == "postgresql"
    assert at_step_5 == [(5 / 7 + 1, "eval" if linked else None, "d1" if linked else None)]
    assert _packed_rows(run.run_uuid, "shadowed") == (1 if linked else 0)


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_deleting_a_run_deletes_its_packed_points(bound: None) -> None:
    run, kept = make_run(), make_run()
    log_batch(run.run_uuid, metrics=_batch(0, PACK_MIN_POINTS))
    log_batch(kept.run_uuid, metrics=_batch(0, PACK_MIN_POINTS))
    Run.delete().where(Run.run_uuid == run.run_uuid).execute()
    assert _packed_rows(run.run_uuid) == 0
    assert not MetricHistory.select().where(MetricHistory.run == run.run_uuid).exists()
    assert _packed_rows(kept.run_uuid) == len(KEYS)
    assert len(_history(kept.run_uuid, "loss")) == PACK_MIN_POINTS


def test_an_import_run_twice_stores_each_point_once(bound: None) -> None:
    # An import writes a run's whole history each time it runs: rows, which skip what is there.
    from registry.store.imports.entities import ImportedRun
    from registry.store.imports.tracking import import_runs
    from registry.store.models import Metric

    run = make_run()
    points = [
        MetricPoint(key, float(step), 1_000 + step, step)
        for step in range(PACK_MIN_POINTS)
        for key in KEYS
    ]
    imported = ImportedRun(
        run_id=run.run_uuid,
        experiment_id=run.experiment_id,
        name="imported",
        user_id="someone",
        status="FINISHED",
        start_time=1,
        end_time=2,
        lifecycle_stage="active",
        artifact_uri="file:///a",
        deleted_time=None,
        metrics=points,
    )
    import_runs([imported])
    import_runs([imported])
    assert Metric.select().where(Metric.run == run.run_uuid).count() == len(points)
    assert _packed_rows(run.run_uuid) == 0
    assert len(_history(run.run_uuid, "acc")) == PACK_MIN_POINTS
