"""runs/create's write path on every engine: SQL built once, the answer is what was stored."""

from __future__ import annotations

import peewee
import pytest

from registry.errors import InvalidParameter, NotFound
from registry.store import bulk, write_transaction
from registry.store.experiments import delete_experiment
from registry.store.models import Run, RunTag
from registry.store.runs import create_run_record, get_run
from tests.factories import make_experiment


def test_the_created_run_is_what_runs_get_reads_back(bound: None) -> None:
    experiment = make_experiment()
    created = create_run_record(
        experiment.experiment_id, "ann", "named", 1234, {"team": "a", "mlflow.user": "ann"}
    )
    stored = get_run(created.run.run_uuid)
    columns = [field.name for field in Run._meta.sorted_fields]
    assert [getattr(created.run, c) for c in columns] == [getattr(stored.run, c) for c in columns]
    assert created.run.experiment_id == experiment.experiment_id
    assert created.tags == stored.tags
    assert created.params == stored.params == []


def test_a_missing_or_deleted_experiment_is_refused_and_nothing_is_stored(bound: None) -> None:
    with pytest.raises(NotFound, match="No Experiment with id=987654"):
        create_run_record(987654)
    experiment = make_experiment()
    delete_experiment(experiment.experiment_id)
    with pytest.raises(InvalidParameter, match="must be in the 'active' state"):
        create_run_record(experiment.experiment_id)
    with pytest.raises(InvalidParameter, match="Invalid experiment ID"):
        create_run_record("not-a-number")
    assert Run.select().count() == 0


def test_a_strict_insert_of_an_existing_key_raises_and_its_transaction_rolls_back(
    bound: None,
) -> None:
    run = create_run_record(make_experiment().experiment_id).run
    row = [(run.run_uuid, "k", "v")]
    with pytest.raises(peewee.IntegrityError), write_transaction():
        bulk.insert_rows(RunTag, ("run", "key", "value"), row, bulk.STRICT)
        bulk.insert_rows(RunTag, ("run", "key", "value"), row, bulk.STRICT)
    assert RunTag.select().where(RunTag.run == run.run_uuid, RunTag.key == "k").count() == 0
