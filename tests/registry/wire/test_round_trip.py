"""Every response shape once: the server's real answer for a real object validates against its
OpenAPI component and decodes into the client's entity with every field kept."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from openapi_schema_validator import OAS31Validator

from registry.wire import artifacts, logged_models, registry, tracking
from registry.wire.artifacts import FileInfo
from registry.wire.base import Entity, encoder
from registry.wire.logged_models import LoggedModel
from registry.wire.registry import ModelVersion, RegisteredModel, Transition, VersionLineage
from registry.wire.responses import EXPERIMENTS, shaped
from registry.wire.tracking import Experiment, Metric, Run

API = "/api/2.0/mlflow"
OURS = "/api/2.0/modelyard"


def _seed(client: FlaskClient) -> dict[str, Any]:
    def post(path: str, body: dict[str, Any], base: str = API) -> Any:
        response = client.post(f"{base}/{path}", json=body)
        assert response.status_code == 200, response.json
        return response.json

    exp = post("experiments/create", {"name": "wire", "tags": [{"key": "t", "value": "v"}]})
    exp_id = exp["experiment_id"]
    run = post("runs/create", {"experiment_id": exp_id, "tags": [{"key": "k", "value": "v"}]})
    run_id = run["run"]["info"]["run_id"]
    model = post("logged-models", {"experiment_id": exp_id, "name": "m", "source_run_id": run_id})
    model_id = model["model"]["info"]["model_id"]
    metric = {"key": "loss", "value": "NaN", "timestamp": 5, "step": 1, "model_id": model_id}
    post(
        "runs/log-batch",
        {"run_id": run_id, "metrics": [metric], "params": [{"key": "p", "value": "1"}]},
    )
    dataset = {"name": "d", "digest": "x", "source_type": "local", "source": "s", "schema": "{}"}
    post(
        "runs/log-inputs",
        {
            "run_id": run_id,
            "datasets": [{"dataset": dataset, "tags": [{"key": "a", "value": "b"}]}],
        },
    )
    post("runs/outputs", {"run_id": run_id, "models": [{"model_id": model_id, "step": 1}]})
    post("runs/update", {"run_id": run_id, "status": "FINISHED", "end_time": 9})
    post(
        "registered-models/create",
        {"name": "rm", "tags": [{"key": "a", "value": "b"}], "description": "d"},
    )
    post(
        "model-versions/create",
        {
            "name": "rm",
            "source": f"models:/{model_id}",
            "run_id": run_id,
            "model_id": model_id,
            "tags": [{"key": "c", "value": "d"}],
        },
    )
    post("registered-models/alias", {"name": "rm", "alias": "champion", "version": "1"})
    post("model-versions/transition-stage", {"name": "rm", "version": "1", "stage": "Staging"})
    return {"exp": exp_id, "run": run_id, "model": model_id}


def _cases(ids: dict[str, Any]) -> list[tuple[str, dict[str, Any], str, type[Entity]]]:
    return [
        (f"{API}/experiments/get", {"experiment_id": ids["exp"]}, "experiment", Experiment),
        (f"{API}/runs/get", {"run_id": ids["run"]}, "run", Run),
        (f"{API}/logged-models/{ids['model']}", {}, "model", LoggedModel),
        (f"{API}/registered-models/get", {"name": "rm"}, "registered_model", RegisteredModel),
        (
            f"{API}/registered-models/alias",
            {"name": "rm", "alias": "champion"},
            "model_version",
            ModelVersion,
        ),
        (f"{OURS}/model-versions/lineage", {"name": "rm", "version": "1"}, "", VersionLineage),
        (f"{OURS}/registered-models/history", {"name": "rm"}, "transitions", Transition),
        (
            f"{API}/metrics/get-history",
            {"run_id": ids["run"], "metric_key": "loss"},
            "metrics",
            Metric,
        ),
        (f"{API}/artifacts/list", {"run_id": ids["run"]}, "files", FileInfo),
    ]


def _component(doc: dict[str, Any], entity: type[Entity]) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{entity.__name__}", "components": doc["components"]}


@pytest.mark.parametrize("index", range(9))
def test_every_answer_validates_and_decodes_whole(sqlite_client: FlaskClient, index: int) -> None:
    ids = _seed(sqlite_client)
    doc: dict[str, Any] = sqlite_client.get(f"{OURS}/openapi.json").json
    path, query, key, entity = _cases(ids)[index]
    reply: dict[str, Any] = sqlite_client.get(path, query_string=query).json
    items = reply if not key else reply.get(key, [])
    for body in items if isinstance(items, list) else [items]:
        OAS31Validator(_component(doc, entity)).validate(body)
        decoded = entity.from_dict(body)
        again = entity.Schema().dump(decoded)
        assert _kept(entity, body) == _kept(entity, again)
        assert encoder(entity.Schema)(decoded) == again


def _kept(entity: type[Entity], body: dict[str, Any]) -> dict[str, Any]:
    """The JSON less what the client projects on purpose: a run's latest metrics are
    ``run.data.metrics``, a ``{key: value}`` dict as in MLflow, without step and timestamp."""
    if entity is not Run:
        return body
    data = body.get("data", {})
    points = [{"key": m["key"], "value": m["value"]} for m in data.get("metrics", [])]
    return {**body, "data": {**data, "metrics": points}}


def _entities() -> list[type[Entity]]:
    modules = (tracking, logged_models, registry, artifacts)
    found = {v for m in modules for v in vars(m).values() if isinstance(v, type)}
    return [v for v in found if issubclass(v, Entity) and v is not Entity]


def test_each_entity_field_is_its_wire_field() -> None:
    """One declaration feeds server, OpenAPI and client: adding a field is one line."""
    entities = _entities()
    assert len(entities) >= 20
    for entity in entities:
        wire_names = set(entity.Schema().fields)
        assert wire_names == set(entity.__dataclass_fields__), entity  # type: ignore[attr-defined]


def test_a_view_cannot_answer_a_field_the_document_does_not_show() -> None:
    assert shaped(EXPERIMENTS, experiments=[], next_page_token="") == {}
    with pytest.raises(KeyError, match="next_token"):
        shaped(EXPERIMENTS, experiments=[], next_token="t")
