"""Tracking rows for registry tests (runs, logged models), written through the peewee models."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from flask.testing import FlaskClient

from registry.store.models import (
    Dataset,
    Experiment,
    LatestMetric,
    LoggedModel,
    Param,
    Run,
    RunInput,
    RunTag,
)

API = "/api/2.0/mlflow"
OURS = "/api/2.0/modelyard"


def make_run(
    params: dict[str, str] | None = None,
    tags: dict[str, str] | None = None,
    metrics: dict[str, float] | None = None,
    dataset: str | None = None,
) -> Run:
    now = int(time.time() * 1000)
    experiment = Experiment.create(
        name=f"exp-{uuid.uuid4().hex[:8]}",
        artifact_location="mlflow-artifacts:/1",
        creation_time=now,
        last_update_time=now,
    )
    run_id = uuid.uuid4().hex
    run = Run.create(
        run_uuid=run_id,
        experiment=experiment,
        name="brave-run-1",
        user_id="ana",
        status="FINISHED",
        start_time=now,
        end_time=now,
        artifact_uri=f"mlflow-artifacts:/{experiment.experiment_id}/{run_id}/artifacts",
    )
    for key, value in (params or {}).items():
        Param.create(run=run, key=key, value=value)
    for key, value in (tags or {}).items():
        RunTag.create(run=run, key=key, value=value)
    for key, number in (metrics or {}).items():
        LatestMetric.create(
            run=run,
            experiment_id=experiment.experiment_id,
            key=key,
            value=number,
            timestamp=now,
            step=0,
        )
    if dataset:
        row = Dataset.create(
            experiment=experiment, name=dataset, digest="d29add0c", source_type="code", source="{}"
        )
        tags_json = json.dumps([{"key": "mlflow.data.context", "value": "train"}])
        RunInput.create(run=run, dataset=row, tags_json=tags_json)
    return run


def make_logged_model(run: Run) -> LoggedModel:
    now = int(time.time() * 1000)
    model_id = f"m-{uuid.uuid4().hex}"
    exp = run.experiment_id
    return LoggedModel.create(
        model_id=model_id,
        experiment=exp,
        name="model",
        source_run_id=run.run_uuid,
        status="LOGGED_MODEL_READY",
        artifact_uri=f"mlflow-artifacts:/{exp}/models/{model_id}/artifacts",
        creation_timestamp_ms=now,
        last_updated_timestamp_ms=now,
    )


def create_model(client: FlaskClient, name: str = "m1", **extra: Any) -> dict[str, Any]:
    response = client.post(f"{API}/registered-models/create", json={"name": name, **extra})
    assert response.status_code == 200, response.json
    return response.json["registered_model"]  # type: ignore[no-any-return,index]


def create_version(
    client: FlaskClient, name: str = "m1", source: str | None = None, **extra: Any
) -> dict[str, Any]:
    body = {"name": name, "source": source or f"runs:/{uuid.uuid4().hex}/model", **extra}
    response = client.post(f"{API}/model-versions/create", json=body)
    assert response.status_code == 200, response.json
    return response.json["model_version"]  # type: ignore[no-any-return,index]


def transition(
    client: FlaskClient, version: str, stage: str, name: str = "m1", archive: bool = False
) -> dict[str, Any]:
    body = {"name": name, "version": version, "stage": stage, "archive_existing_versions": archive}
    response = client.post(f"{API}/model-versions/transition-stage", json=body)
    assert response.status_code == 200, response.json
    return response.json["model_version"]  # type: ignore[no-any-return,index]


def set_alias(client: FlaskClient, alias: str, version: str, name: str = "m1") -> None:
    body = {"name": name, "alias": alias, "version": version}
    response = client.post(f"{API}/registered-models/alias", json=body)
    assert response.status_code == 200, response.json


def get_model(client: FlaskClient, name: str = "m1") -> dict[str, Any]:
    response = client.get(f"{API}/registered-models/get", query_string={"name": name})
    assert response.status_code == 200, response.json
    return response.json["registered_model"]  # type: ignore[no-any-return,index]
