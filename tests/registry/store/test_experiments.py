"""Experiments store on every engine: names, soft delete with its runs, tags."""

from __future__ import annotations

import pytest

from registry.errors import AlreadyExists, InvalidParameter, NotFound
from registry.store import experiments as store
from registry.store.models import Experiment, Run
from registry.store.runs import create_run, delete_run
from tests.factories import make_experiment, make_run


def test_default_experiment_exists(bound: None) -> None:
    default = store.get_experiment("0")
    assert (default.name, default.lifecycle_stage) == ("Default", "active")
    assert default.artifact_location == "mlflow-artifacts:/0"


def test_create_assigns_id_and_artifact_location(bound: None) -> None:
    experiment = store.create_experiment("taxi", tags={"team": "ml"})
    fetched = store.get_experiment(str(experiment.experiment_id))
    assert fetched.artifact_location == f"mlflow-artifacts:/{experiment.experiment_id}"
    record = store.with_tags([fetched])[0]
    assert [(t.key, t.value) for t in record.tags] == [("team", "ml")]


def test_duplicate_name_is_rejected_and_changes_nothing(bound: None) -> None:
    store.create_experiment("taxi")
    before = Experiment.select().count()
    with pytest.raises(AlreadyExists):
        store.create_experiment("taxi")
    assert Experiment.select().count() == before


def test_artifact_location_may_not_climb(bound: None) -> None:
    with pytest.raises(InvalidParameter):
        store.create_experiment("climb", artifact_location="mlflow-artifacts:/../../etc")
    custom = store.create_experiment("custom", artifact_location="s3://bucket/prefix")
    assert custom.artifact_location == "s3://bucket/prefix"


@pytest.mark.parametrize("name", ["", "   ", "x" * 251])
def test_bad_name_is_rejected(bound: None, name: str) -> None:
    with pytest.raises(InvalidParameter):
        store.create_experiment(name)


def test_get_unknown_and_malformed_ids(bound: None) -> None:
    with pytest.raises(NotFound):
        store.get_experiment("424242")
    with pytest.raises(InvalidParameter):
        store.get_experiment("abc")
    with pytest.raises(NotFound):
        store.get_experiment_by_name("nope")


def test_delete_soft_deletes_runs_and_restore_brings_them_back(bound: None) -> None:
    experiment = make_experiment()
    kept_deleted = make_run(experiment)
    delete_run(kept_deleted.run_uuid)
    run = make_run(experiment)
    store.delete_experiment(experiment.experiment_id)
    by_name = store.get_experiment_by_name(experiment.name)
    assert by_name.lifecycle_stage == "deleted"
    assert by_name.deleted_time is not None
    assert Run.get_by_id(run.run_uuid).lifecycle_stage == "deleted"
    with pytest.raises(InvalidParameter, match="active"):
        create_run(experiment.experiment_id)
    store.restore_experiment(experiment.experiment_id)
    assert store.get_experiment(experiment.experiment_id).lifecycle_stage == "active"
    assert Run.get_by_id(run.run_uuid).lifecycle_stage == "active"
    assert Run.get_by_id(kept_deleted.run_uuid).lifecycle_stage == "deleted"


def test_rename(bound: None) -> None:
    first = make_experiment(name="a")
    make_experiment(name="b")
    with pytest.raises(AlreadyExists):
        store.rename_experiment(first.experiment_id, "b")
    store.rename_experiment(first.experiment_id, "c")
    assert store.get_experiment(first.experiment_id).name == "c"


def test_tags_set_overwrite_delete(bound: None) -> None:
    experiment = make_experiment()
    store.set_experiment_tag(experiment.experiment_id, "k", "1")
    store.set_experiment_tag(experiment.experiment_id, "k", "2")
    record = store.with_tags([store.get_experiment(experiment.experiment_id)])[0]
    assert [(t.key, t.value) for t in record.tags] == [("k", "2")]
    store.delete_experiment_tag(experiment.experiment_id, "k")
    with pytest.raises(NotFound):
        store.delete_experiment_tag(experiment.experiment_id, "k")
    with pytest.raises(InvalidParameter):
        store.set_experiment_tag(experiment.experiment_id, "bad key!", "v")
