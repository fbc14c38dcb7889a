"""Each latest metric value carries its run's experiment, however the point was written."""

from __future__ import annotations

from registry.store.imports.entities import ImportedRun
from registry.store.imports.tracking import import_runs
from registry.store.metrics import MetricPoint, log_metric
from registry.store.models import LatestMetric
from registry.store.run_data import log_batch
from registry.store.run_search import search_runs
from tests.factories import make_experiment, make_run


def _experiments(run_id: str) -> set[int]:
    rows = LatestMetric.select(LatestMetric.experiment_id).where(LatestMetric.run == run_id)
    return {row.experiment_id for row in rows}


def _searched(experiment_id: int, order: str) -> list[str]:
    records, _ = search_runs([str(experiment_id)], "", "ACTIVE_ONLY", 100, [order], None)
    return [record.run.run_uuid for record in records]


def test_logged_metrics_carry_the_runs_experiment(bound: None) -> None:
    first, second = make_experiment(), make_experiment()
    one, other = make_run(first), make_run(second)

    log_metric(one.run_uuid, MetricPoint("loss", 0.5, 1, 0))
    log_batch(other.run_uuid, metrics=[MetricPoint(f"k{n}", n, 1, 0) for n in range(30)])
    log_batch(one.run_uuid, metrics=[MetricPoint("loss", 0.4, 2, 1), MetricPoint("acc", 1, 2, 1)])

    assert _experiments(one.run_uuid) == {first.experiment_id}
    assert _experiments(other.run_uuid) == {second.experiment_id}


def test_an_imported_run_moved_to_another_experiment_takes_its_latest_metrics_along(
    bound: None,
) -> None:
    first, second = make_experiment(), make_experiment()
    fields = {
        "run_id": "c" * 32,
        "name": "moved",
        "user_id": "ana",
        "status": "FINISHED",
        "start_time": 1,
        "end_time": 2,
        "lifecycle_stage": "active",
        "artifact_uri": "file:///a",
        "deleted_time": None,
    }
    import_runs(
        [
            ImportedRun(
                experiment_id=first.experiment_id,
                metrics=[MetricPoint("loss", 0.5, 1, 0)],
                **fields,  # type: ignore[arg-type]
            )
        ]
    )
    assert _experiments("c" * 32) == {first.experiment_id}

    import_runs([ImportedRun(experiment_id=second.experiment_id, **fields)])  # type: ignore[arg-type]

    assert _experiments("c" * 32) == {second.experiment_id}
    assert _searched(second.experiment_id, "metrics.loss DESC") == ["c" * 32]
    assert _searched(first.experiment_id, "metrics.loss DESC") == []


def test_a_metric_order_returns_only_the_experiments_runs_where_others_rank_higher(
    bound: None,
) -> None:
    # The other experiment's runs hold the highest and the lowest values of the key.
    searched, other = make_experiment(), make_experiment()
    mine = {make_run(searched, metrics={"loss": value}).run_uuid: value for value in (0.2, 0.7)}
    for value in (-5.0, 5.0, 9.0):
        make_run(other, metrics={"loss": value})

    descending = sorted(mine, key=mine.__getitem__, reverse=True)
    assert _searched(searched.experiment_id, "metrics.loss DESC") == descending
    assert _searched(searched.experiment_id, "metrics.loss ASC") == descending[::-1]
