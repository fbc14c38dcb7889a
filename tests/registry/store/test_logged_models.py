"""Logged models store on every engine."""

from __future__ import annotations

import re

import pytest

from registry.errors import InvalidParameter, NotFound
from registry.store import logged_models as store
from registry.store.metrics import MetricPoint
from registry.store.run_data import log_batch
from tests.factories import make_experiment, make_logged_model, make_run


def test_create_shape(bound: None) -> None:
    experiment = make_experiment()
    run = make_run(experiment)
    record = store.create_logged_model(
        experiment.experiment_id, "model", "", run.run_uuid, {"alpha": "0.1"}, {"t": "v"}
    )
    model = record.model
    assert re.fullmatch(r"m-[0-9a-f]{32}", model.model_id)
    assert model.artifact_uri == (
        f"mlflow-artifacts:/{experiment.experiment_id}/models/{model.model_id}/artifacts"
    )
    assert model.status == "LOGGED_MODEL_PENDING"
    assert [(p.key, p.value) for p in record.params] == [("alpha", "0.1")]
    assert [(t.key, t.value) for t in record.tags] == [("t", "v")]


def test_name_is_invented_when_empty(bound: None) -> None:
    assert make_logged_model(name="").model.name


def test_finalize_tags_params_and_metrics(bound: None) -> None:
    run = make_run()
    model_id = make_logged_model(run=run).model.model_id
    with pytest.raises(InvalidParameter):
        store.finalize_logged_model(model_id, "DONE")
    assert store.finalize_logged_model(model_id, "LOGGED_MODEL_READY").model.status == (
        "LOGGED_MODEL_READY"
    )
    store.set_logged_model_tags(model_id, {"mlflow.modelVersions": "[]"})
    store.log_logged_model_params(model_id, {"beta": "2"})
    log_batch(run.run_uuid, metrics=[MetricPoint("rmse", 1.5, 1, 0, model_id=model_id)])
    record = store.get_logged_model(model_id)
    assert {t.key for t in record.tags} == {"mlflow.modelVersions"}
    assert {p.key for p in record.params} == {"beta"}
    assert [(m.key, m.value, m.run_id) for m in record.metrics] == [("rmse", 1.5, run.run_uuid)]
    store.delete_logged_model_tag(model_id, "mlflow.modelVersions")
    with pytest.raises(NotFound):
        store.delete_logged_model_tag(model_id, "mlflow.modelVersions")


def test_delete_hides_the_model(bound: None) -> None:
    model_id = make_logged_model().model.model_id
    store.delete_logged_model(model_id)
    with pytest.raises(NotFound):
        store.get_logged_model(model_id)
    with pytest.raises(NotFound):
        store.delete_logged_model(model_id)
