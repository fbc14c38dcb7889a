"""Runs store on every engine: names, lifecycle, params, tags, log-batch atomicity."""

from __future__ import annotations

import re
from typing import Any

import pytest

from registry.errors import InvalidParameter, NotFound
from registry.store import runs as store
from registry.store.datasets import DatasetInput, log_inputs, log_outputs
from registry.store.metrics import MetricPoint
from registry.store.models import LatestMetric, MetricHistory, Param, RunTag
from registry.store.run_data import delete_tag, log_batch, log_param, set_tag
from tests.factories import make_experiment, make_logged_model, make_run


def _tags(run_id: str) -> dict[str, str]:
    return {t.key: t.value for t in store.get_run(run_id).tags}


def test_create_invents_name_and_tags_it(bound: None) -> None:
    experiment = make_experiment()
    run = store.create_run(experiment.experiment_id, "ana", start_time=123)
    assert re.fullmatch(r"[0-9a-f]{32}", run.run_uuid)
    assert re.fullmatch(r"[a-z]+-[a-z]+-\d{1,3}", run.name)
    assert _tags(run.run_uuid)["mlflow.runName"] == run.name
    record = store.get_run(run.run_uuid)
    assert record.run.artifact_uri == (
        f"mlflow-artifacts:/{experiment.experiment_id}/{run.run_uuid}/artifacts"
    )
    assert (record.run.status, record.run.start_time, record.run.end_time) == ("RUNNING", 123, None)


def test_name_from_tag_and_conflicting_names(bound: None) -> None:
    experiment = make_experiment()
    run = store.create_run(experiment.experiment_id, tags={"mlflow.runName": "from-tag"})
    assert run.name == "from-tag"
    with pytest.raises(InvalidParameter, match="different values"):
        store.create_run(experiment.experiment_id, run_name="a", tags={"mlflow.runName": "b"})


def test_create_in_unknown_experiment(bound: None) -> None:
    with pytest.raises(NotFound):
        store.create_run("987654")


def test_update_rewrites_run_name_tag(bound: None) -> None:
    run = make_run()
    store.update_run(run.run_uuid, status="FINISHED", end_time=99, run_name="renamed")
    record = store.get_run(run.run_uuid)
    assert (record.run.status, record.run.end_time, record.run.name) == ("FINISHED", 99, "renamed")
    assert _tags(run.run_uuid)["mlflow.runName"] == "renamed"
    with pytest.raises(InvalidParameter):
        store.update_run(run.run_uuid, status="DONE")


def test_set_tag_run_name_renames(bound: None) -> None:
    run = make_run()
    set_tag(run.run_uuid, "mlflow.runName", "via-tag")
    assert store.get_run(run.run_uuid).run.name == "via-tag"


def test_deleted_run_is_readable_but_not_writable(bound: None) -> None:
    run = make_run()
    store.delete_run(run.run_uuid)
    record = store.get_run(run.run_uuid)
    assert record.run.lifecycle_stage == "deleted"
    assert record.run.deleted_time is not None
    for write in (
        lambda: log_param(run.run_uuid, "p", "1"),
        lambda: set_tag(run.run_uuid, "t", "1"),
        lambda: log_batch(run.run_uuid, metrics=[MetricPoint("m", 1.0, 1)]),
        lambda: store.update_run(run.run_uuid, status="FINISHED"),
    ):
        with pytest.raises(InvalidParameter, match="active"):
            write()
    store.restore_run(run.run_uuid)
    log_param(run.run_uuid, "p", "1")
    assert store.get_run(run.run_uuid).run.deleted_time is None


def test_param_is_write_once(bound: None) -> None:
    run = make_run()
    log_param(run.run_uuid, "alpha", "0.1")
    log_param(run.run_uuid, "alpha", "0.1")
    with pytest.raises(InvalidParameter, match="Changing param values"):
        log_param(run.run_uuid, "alpha", "0.2")
    assert [(p.key, p.value) for p in store.get_run(run.run_uuid).params] == [("alpha", "0.1")]


def test_batch_with_a_param_conflict_in_the_middle_stores_nothing(bound: None) -> None:
    run = make_run(params={"fixed": "1"})
    metrics = [MetricPoint("loss", 0.5, 10, step) for step in range(50)]
    params = [("a", "1"), ("fixed", "2"), ("b", "3")]
    with pytest.raises(InvalidParameter):
        log_batch(run.run_uuid, metrics=metrics, params=params, tags=[("t", "v")])
    assert MetricHistory.select().where(MetricHistory.run == run.run_uuid).count() == 0
    assert LatestMetric.select().where(LatestMetric.run == run.run_uuid).count() == 0
    assert Param.select().where(Param.run == run.run_uuid).count() == 1
    assert not RunTag.select().where(RunTag.run == run.run_uuid, RunTag.key == "t").exists()


@pytest.mark.parametrize(
    ("metrics", "params", "tags"),
    [(1001, 0, 0), (0, 101, 0), (0, 0, 101), (900, 100, 100)],
)
def test_batch_limits(bound: None, metrics: int, params: int, tags: int) -> None:
    run = make_run()
    with pytest.raises(InvalidParameter, match="at most"):
        log_batch(
            run.run_uuid,
            metrics=[MetricPoint("m", 1.0, 1, i) for i in range(metrics)],
            params=[(f"p{i}", "v") for i in range(params)],
            tags=[(f"t{i}", "v") for i in range(tags)],
        )
    assert MetricHistory.select().where(MetricHistory.run == run.run_uuid).count() == 0


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("bad!key", "v"),
        ("../escape", "v"),
        ("/leading", "v"),
        ("k" * 251, "v"),
        ("", "v"),
        ("ok", "v" * 6001),
    ],
)
def test_invalid_params_rejected(bound: None, key: str, value: str) -> None:
    run = make_run()
    with pytest.raises(InvalidParameter):
        log_param(run.run_uuid, key, value)
    assert not store.get_run(run.run_uuid).params


def test_tag_value_limit_and_valid_key_characters(bound: None) -> None:
    run = make_run()
    set_tag(run.run_uuid, "a-b_c.d e:f/g", "v" * 8000)
    with pytest.raises(InvalidParameter):
        set_tag(run.run_uuid, "long", "v" * 8001)
    delete_tag(run.run_uuid, "a-b_c.d e:f/g")
    with pytest.raises(NotFound):
        delete_tag(run.run_uuid, "a-b_c.d e:f/g")


def test_inputs_and_outputs_are_returned(bound: None) -> None:
    run = make_run()
    model = make_logged_model(run=run)
    dataset = DatasetInput("train", "abc", "code", "{}", tags={"mlflow.data.context": "train"})
    log_inputs(run.run_uuid, [dataset, dataset], [model.model.model_id])
    log_outputs(run.run_uuid, [(model.model.model_id, 0)])
    log_outputs(run.run_uuid, [(model.model.model_id, 3)])
    record = store.get_run(run.run_uuid)
    assert [(i.name, i.digest) for i in record.dataset_inputs] == [("train", "abc")]
    assert [m.model_id for m in record.model_inputs] == [model.model.model_id]
    assert [(o.model_id, o.step) for o in record.model_outputs] == [(model.model.model_id, 3)]


def test_unknown_run(bound: None) -> None:
    with pytest.raises(NotFound):
        store.get_run("0" * 32)
    with pytest.raises(NotFound):
        log_param("0" * 32, "p", "1")


@pytest.mark.parametrize(
    "write",
    [
        lambda exp: store.create_run(exp, user_id="u" * 257),
        lambda exp: store.create_run(exp, run_name="n" * 251),
        lambda exp: log_inputs(
            store.create_run(exp).run_uuid, [DatasetInput("d" * 501, "x", "code", "{}")]
        ),
        lambda exp: log_batch(
            store.create_run(exp).run_uuid, metrics=[MetricPoint("m", 1.0, 1, model_id="m" * 65)]
        ),
    ],
)
def test_over_long_fields_are_400_on_every_engine(bound: None, write: Any) -> None:
    experiment = make_experiment()
    with pytest.raises(InvalidParameter, match="length"):
        write(experiment.experiment_id)
