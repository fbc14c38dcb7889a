"""MLflow's ``/graphql``: the queries MLflow's web UI sends, answered as MLflow 3.17 does."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from registry.auth.passwords import hash_password
from registry.config import Config
from registry.store import auth as auth_store
from registry.store import use_database
from tests.registry.auth.conftest import ADMIN_PASSWORD, PASSWORD, basic

API = "/api/2.0/mlflow"
BIGGEST = sys.float_info.max

# MLflow's web UI's queries (mlflow/server/js), as it sends them.
GET_RUN = """
query GetRun($data: MlflowGetRunInput!) @component(name: "MLflow.ExperimentRunTracking") {
  mlflowGetRun(input: $data) {
    apiError { helpUrl code message }
    run {
      info { runName status runUuid experimentId artifactUri endTime lifecycleStage startTime
             userId }
      experiment { experimentId name tags { key value } artifactLocation lifecycleStage
                   lastUpdateTime }
      modelVersions { status version name source }
      data { metrics { key value step timestamp } params { key value } tags { key value } }
      inputs { datasetInputs { dataset { digest name profile schema source sourceType }
                               tags { key value } }
               modelInputs { modelId } }
      outputs { modelOutputs { modelId step } }
    }
  }
}"""
BULK_INTERVAL = """
query GetMetricHistoryBulkInterval($data: MlflowGetMetricHistoryBulkIntervalInput!)
@component(name: "MLflow.ExperimentRunTracking") {
  mlflowGetMetricHistoryBulkInterval(input: $data) {
    __typename
    metrics { timestamp step runId key value }
    apiError { code message }
  }
}"""
GET_EXPERIMENT = """
query MlflowGetExperimentQuery($input: MlflowGetExperimentInput!)
@component(name: "MLflow.ExperimentRunTracking") {
  mlflowGetExperiment(input: $input) {
    apiError { code message }
    experiment { artifactLocation creationTime effectiveTraceArchivalRetention experimentId
                 lastUpdateTime lifecycleStage name tags { key value } }
  }
}"""


def graphql(client: FlaskClient, query: str, **variables: Any) -> dict[str, Any]:
    reply = client.post("/graphql", json={"query": query, "variables": variables})
    assert reply.status_code == 200, reply.get_json()
    body: dict[str, Any] = reply.get_json()
    assert set(body) == {"data", "errors"}
    return body


def _run(client: FlaskClient, experiment_id: str, name: str = "r1") -> str:
    body = {"experiment_id": experiment_id, "run_name": name, "start_time": 1000}
    return str(client.post(f"{API}/runs/create", json=body).json["run"]["info"]["run_id"])


@pytest.fixture
def logged(client: FlaskClient) -> dict[str, str]:
    """An experiment with a run: metrics (NaN and infinities too), a param, a dataset input, a
    registered version and an artifact."""
    experiment = {"name": "gql", "tags": [{"key": "team", "value": "a"}]}
    experiment_id = client.post(f"{API}/experiments/create", json=experiment).json["experiment_id"]
    run_id = _run(client, experiment_id)
    points = [
        {"key": "loss", "value": 1 / (s + 1), "timestamp": 100 + s, "step": s} for s in range(5)
    ]
    points += [
        {"key": odd, "value": odd, "timestamp": 7, "step": 0}
        for odd in ("NaN", "Infinity", "-Infinity")
    ]
    batch = {"run_id": run_id, "metrics": points, "params": [{"key": "lr", "value": "0.1"}]}
    assert client.post(f"{API}/runs/log-batch", json=batch).status_code == 200
    dataset = {"name": "train", "digest": "d1", "source_type": "local", "source": "{}"}
    inputs = {"dataset": dataset, "tags": [{"key": "mlflow.data.context", "value": "training"}]}
    body = {"run_id": run_id, "datasets": [inputs]}
    assert client.post(f"{API}/runs/log-inputs", json=body).status_code == 200
    client.post(f"{API}/registered-models/create", json={"name": "m1"})
    version = {"name": "m1", "source": f"runs:/{run_id}/model", "run_id": run_id}
    assert client.post(f"{API}/model-versions/create", json=version).status_code == 200
    upload = f"/api/2.0/mlflow-artifacts/artifacts/{experiment_id}/{run_id}/artifacts/dir/a.txt"
    assert client.put(upload, data=b"hello").status_code == 200
    return {"experiment_id": experiment_id, "run_id": run_id}


def test_get_run_answers_the_ui_query_with_mlflow_names_and_nesting(
    client: FlaskClient, logged: dict[str, str]
) -> None:
    run_id, experiment_id = logged["run_id"], logged["experiment_id"]
    body = graphql(client, GET_RUN, data={"runId": run_id})
    assert body["errors"] is None
    answer = body["data"]["mlflowGetRun"]
    assert answer["apiError"] is None
    run = answer["run"]
    assert run["info"] == {
        "runName": "r1",
        "status": "RUNNING",
        "runUuid": run_id,
        "experimentId": experiment_id,
        "artifactUri": f"mlflow-artifacts:/{experiment_id}/{run_id}/artifacts",
        "endTime": "0",  # int64s are strings; unset ones are protobuf's 0, as MLflow answers
        "lifecycleStage": "active",
        "startTime": "1000",
        "userId": "",
    }
    assert run["experiment"]["name"] == "gql"
    assert run["experiment"]["tags"] == [{"key": "team", "value": "a"}]
    assert run["experiment"]["lastUpdateTime"].isdigit()
    metrics = {m["key"]: m for m in run["data"]["metrics"]}
    assert metrics["loss"] == {"key": "loss", "value": 0.2, "step": "4", "timestamp": "104"}
    # GraphQL's Float has no NaN or infinity: MLflow answers null and its store's largest doubles
    assert [metrics[k]["value"] for k in ("NaN", "Infinity", "-Infinity")] == [
        None,
        BIGGEST,
        -BIGGEST,
    ]
    assert run["data"]["params"] == [{"key": "lr", "value": "0.1"}]
    assert run["inputs"]["datasetInputs"] == [
        {
            "dataset": {
                "digest": "d1",
                "name": "train",
                "profile": "",
                "schema": "",
                "source": "{}",
                "sourceType": "local",
            },
            "tags": [{"key": "mlflow.data.context", "value": "training"}],
        }
    ]
    assert run["inputs"]["modelInputs"] == []
    assert run["outputs"] == {"modelOutputs": []}
    assert run["modelVersions"] == [
        {"status": "READY", "version": "1", "name": "m1", "source": f"runs:/{run_id}/model"}
    ]


def test_search_runs_as_query_and_mutation_and_the_experiment(
    client: FlaskClient, logged: dict[str, str]
) -> None:
    experiment_id = logged["experiment_id"]
    second = _run(client, experiment_id, "r2")
    search = """%s ($data: MlflowSearchRunsInput!) {
      mlflowSearchRuns(input: $data) { runs { info { runId runName } } nextPageToken }
    }"""
    data = {"experimentIds": [experiment_id], "orderBy": ["attributes.run_name DESC"]}
    for kind in ("query", "mutation"):
        found = graphql(client, search % kind, data={**data, "maxResults": 1})["data"]
        page = found["mlflowSearchRuns"]
        assert page["runs"] == [{"info": {"runId": second, "runName": "r2"}}]
        rest = {**data, "pageToken": page["nextPageToken"], "runViewType": "ALL"}
        last = graphql(client, search % kind, data=rest)["data"]["mlflowSearchRuns"]
        assert [r["info"]["runName"] for r in last["runs"]] == ["r1"]
        assert last["nextPageToken"] == ""
    experiment = graphql(client, GET_EXPERIMENT, input={"experimentId": experiment_id})
    assert experiment["errors"] is None
    found = experiment["data"]["mlflowGetExperiment"]["experiment"]
    assert found["name"] == "gql"
    assert found["creationTime"].isdigit()
    assert found["effectiveTraceArchivalRetention"] == ""


def test_metric_history_bulk_interval_samples_and_keeps_nan_as_null(
    client: FlaskClient, logged: dict[str, str]
) -> None:
    run_id = logged["run_id"]
    data = {"runIds": [run_id], "metricKey": "loss", "maxResults": 3}
    body = graphql(client, BULK_INTERVAL, data=data)
    answer = body["data"]["mlflowGetMetricHistoryBulkInterval"]
    assert answer["__typename"] == "MlflowGetMetricHistoryBulkIntervalResponse"
    assert [(m["step"], m["runId"], m["key"]) for m in answer["metrics"]] == [
        ("0", run_id, "loss"),
        ("2", run_id, "loss"),
        ("4", run_id, "loss"),
    ]
    window = {**data, "startStep": 1, "endStep": 2}
    steps = graphql(client, BULK_INTERVAL, data=window)["data"]
    assert [m["step"] for m in steps["mlflowGetMetricHistoryBulkInterval"]["metrics"]] == ["1", "2"]
    odd = graphql(client, BULK_INTERVAL, data={"runIds": [run_id], "metricKey": "NaN"})
    assert odd["errors"] is None
    assert odd["data"]["mlflowGetMetricHistoryBulkInterval"]["metrics"][0]["value"] is None


def test_artifacts_and_datasets(client: FlaskClient, logged: dict[str, str]) -> None:
    run_id, experiment_id = logged["run_id"], logged["experiment_id"]
    listing = """query($id: String, $path: String) {
      mlflowListArtifacts(input: {runId: $id, path: $path}) {
        rootUri files { path isDir fileSize } nextPageToken
      }
    }"""
    root = graphql(client, listing, id=run_id)["data"]["mlflowListArtifacts"]
    assert root == {
        "rootUri": f"mlflow-artifacts:/{experiment_id}/{run_id}/artifacts",
        "files": [{"path": "dir", "isDir": True, "fileSize": "0"}],
        "nextPageToken": "",
    }
    inside = graphql(client, listing, id=run_id, path="dir")["data"]["mlflowListArtifacts"]["files"]
    assert inside == [{"path": "dir/a.txt", "isDir": False, "fileSize": "5"}]
    escape = graphql(client, listing, id=run_id, path="../other")
    assert escape["data"] == {"mlflowListArtifacts": None}
    assert len(escape["errors"]) == 1
    datasets = """mutation($ids: [String]) {
      mlflowSearchDatasets(input: {experimentIds: $ids}) {
        datasetSummaries { experimentId name digest context }
      }
    }"""
    found = graphql(client, datasets, ids=[experiment_id])["data"]["mlflowSearchDatasets"]
    assert found["datasetSummaries"] == [
        {"experimentId": experiment_id, "name": "train", "digest": "d1", "context": "training"}
    ]


def test_search_model_versions_takes_max_results_as_a_long_string(
    client: FlaskClient, logged: dict[str, str]
) -> None:
    client.post(f"{API}/model-versions/create", json={"name": "m1", "source": "runs:/x/model"})
    search = """query($max: LongString) {
      mlflowSearchModelVersions(input: {filter: "name = 'm1'", maxResults: $max}) {
        modelVersions { name version runId status tags { key value } aliases } nextPageToken
      }
    }"""
    for given in ("1", 1):
        page = graphql(client, search, max=given)["data"]["mlflowSearchModelVersions"]
        assert len(page["modelVersions"]) == 1
        assert page["modelVersions"][0]["status"] == "READY"
        assert page["nextPageToken"]
    refused = graphql(client, search, max="many")
    assert refused["data"] is None
    assert len(refused["errors"]) == 1


def test_a_failed_field_is_null_with_mlflow_message_beside_the_others(
    sqlite_client: FlaskClient,
) -> None:
    query = """{
      missing: mlflowGetRun(input: {runId: "nope"}) { run { info { runId } } }
      default: mlflowGetExperiment(input: {experimentId: "0"}) { experiment { name } }
      test(inputString: "echo") { output }
    }"""
    body = graphql(sqlite_client, query)
    assert body["data"] == {
        "missing": None,
        "default": {"experiment": {"name": "Default"}},
        "test": {"output": "echo"},
    }
    assert body["errors"] == ["Run with id=nope not found"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("{ mlflowGetRun( ", "Syntax Error: Expected Name, found <EOF>."),
        ("{ nope }", "Cannot query field 'nope' on type 'Query'."),
        (
            "query A { test { output } } query B { test { output } }",
            "Must provide operation name if query contains multiple operations.",
        ),
        (
            "{ " + " ".join(f'f{i}: test(inputString: "x") {{ output }}' for i in range(11)) + " }",
            "GraphQL queries should have at most 10 root fields, got 11 root fields.",
        ),
        (
            "{ test { " + " ".join(f"o{i}: output" for i in range(11)) + " } }",
            "GraphQL queries should have at most 10 aliases, got 11 aliases.",
        ),
        (
            "{ test { ...A ...B } } fragment A on Test { "
            + " ".join(f"a{i}: output" for i in range(6))
            + " } fragment B on Test { "
            + " ".join(f"b{i}: output" for i in range(5))
            + " }",
            "GraphQL queries should have at most 10 aliases, got 11 aliases.",
        ),
        (
            "{ __schema { types { fields { type { ofType { ofType { ofType { ofType { ofType"
            " { ofType { name } } } } } } } } } } }",
            "Query exceeds maximum depth of 10",
        ),
        (
            "{ test { " + " ".join(["output"] * 1001) + " } }",
            "Query exceeds maximum total selections of 1000",
        ),
    ],
)
def test_bad_documents_and_mlflow_limits_answer_messages_and_no_data(
    sqlite_client: FlaskClient, query: str, message: str
) -> None:
    assert graphql(sqlite_client, query) == {"data": None, "errors": [message]}


def test_a_search_filter_is_held_to_the_rest_limits(sqlite_client: FlaskClient) -> None:
    search = (
        "query($f: String) { mlflowSearchRuns(input: {filter: $f}) { runs { info { runId } } } }"
    )
    wide = " and ".join(f"params.p{i} = 'x'" for i in range(51))
    body = graphql(sqlite_client, search, f=wide)
    assert body["data"] == {"mlflowSearchRuns": None}
    assert body["errors"] == ["The filter has 51 comparisons; the limit is 50."]


def test_named_operation_and_depth_ten_are_allowed(sqlite_client: FlaskClient) -> None:
    two = (
        'query A { test(inputString: "a") { output } } '
        'query B { test(inputString: "b") { output } }'
    )
    reply = sqlite_client.post("/graphql", json={"query": two, "operationName": "B"})
    assert reply.get_json() == {"data": {"test": {"output": "b"}}, "errors": None}
    deep = (
        "{ __schema { types { fields { type { ofType { ofType { ofType { ofType { ofType"
        " { name } } } } } } } } } }"
    )
    assert graphql(sqlite_client, deep)["errors"] is None


def test_get_takes_query_parameters_or_a_json_body(sqlite_client: FlaskClient) -> None:
    query = '{ test(inputString: "g") { output } }'
    expected = {"data": {"test": {"output": "g"}}, "errors": None}
    assert sqlite_client.get("/graphql", query_string={"query": query}).get_json() == expected
    assert sqlite_client.get("/graphql", json={"query": query}).get_json() == expected
    with_variables = {
        "query": "query($s: String) { test(inputString: $s) { output } }",
        "variables": '{"s": "g"}',
    }
    assert sqlite_client.get("/graphql", query_string=with_variables).get_json() == expected


@pytest.mark.parametrize(
    ("kwargs", "status", "code"),
    [
        ({"json": [{"query": "{ test { output } }"}] * 2}, 400, "BAD_REQUEST"),
        ({"json": {"variables": {}}}, 400, "INVALID_PARAMETER_VALUE"),
        ({"json": {"query": "{ test { output } }", "variables": "[]"}}, 400, None),
        ({"data": '{"query": "{ test { output } }"}', "content_type": "text/plain"}, 415, None),
        ({"data": "not json", "content_type": "application/json"}, 400, "BAD_REQUEST"),
    ],
)
def test_malformed_requests_get_the_api_error_body(
    sqlite_client: FlaskClient, kwargs: dict[str, Any], status: int, code: str | None
) -> None:
    reply = sqlite_client.post("/graphql", **kwargs)
    assert reply.status_code == status
    body = reply.get_json()
    assert set(body) == {"error_code", "message"} | ({"details"} & set(body))
    if code is not None:
        assert body["error_code"] == code


def test_a_foreign_origin_is_refused(sqlite_client: FlaskClient) -> None:
    body = {"query": '{ test(inputString: "x") { output } }'}
    reply = sqlite_client.post("/graphql", json=body, headers={"Origin": "http://evil.example"})
    assert reply.status_code == 403
    assert reply.get_json()["error_code"] == "PERMISSION_DENIED"


@pytest.fixture
def auth_client(sqlite_url: str, artifact_root: Path) -> Iterator[tuple[Flask, FlaskClient]]:
    """Auth on, ungranted experiments unreadable; an admin client, and a user ``bob``."""
    from registry.server.app import create_app

    config = Config(
        database_url=sqlite_url,
        artifact_root=str(artifact_root),
        auth=True,
        default_permission="NO_PERMISSIONS",
    )
    application = create_app(config)
    with use_database(application.extensions["registry"].database):
        auth_store.create_user("admin", hash_password(ADMIN_PASSWORD), is_admin=True)
        auth_store.create_user("bob", hash_password(PASSWORD))
    admin = application.test_client()
    admin.environ_base["HTTP_AUTHORIZATION"] = basic("admin", ADMIN_PASSWORD)["Authorization"]
    yield application, admin
    database = application.extensions["registry"].database
    getattr(database, "close_all", database.close)()


def test_each_field_needs_read_on_its_experiment_as_its_rest_read_does(
    auth_client: tuple[Flask, FlaskClient],
) -> None:
    application, admin = auth_client
    hidden = admin.post(f"{API}/experiments/create", json={"name": "hidden"}).json["experiment_id"]
    shared = admin.post(f"{API}/experiments/create", json={"name": "shared"}).json["experiment_id"]
    hidden_run, shared_run = _run(admin, hidden), _run(admin, shared)
    grant = {"experiment_id": shared, "username": "bob", "permission": "READ"}
    assert admin.post(f"{API}/experiments/permissions/create", json=grant).status_code == 200
    bob = application.test_client()
    bob.environ_base["HTTP_AUTHORIZATION"] = basic("bob", PASSWORD)["Authorization"]

    refused = graphql(bob, GET_RUN, data={"runId": hidden_run})
    assert refused["data"] == {"mlflowGetRun": None}
    assert refused["errors"] == [f"Permission denied: READ on experiment {hidden} is needed."]
    assert bob.get(f"{API}/runs/get", query_string={"run_id": hidden_run}).status_code == 403
    allowed = graphql(bob, GET_RUN, data={"runId": shared_run})
    assert allowed["data"]["mlflowGetRun"]["run"]["info"]["runUuid"] == shared_run

    listing = "query($id: String) { mlflowListArtifacts(input: {runId: $id}) { rootUri } }"
    assert graphql(bob, listing, id=hidden_run)["data"] == {"mlflowListArtifacts": None}
    bulk = graphql(bob, BULK_INTERVAL, data={"runIds": [shared_run, hidden_run], "metricKey": "m"})
    assert bulk["data"] == {"mlflowGetMetricHistoryBulkInterval": None}
    search = """query($ids: [String]) {
      mlflowSearchRuns(input: {experimentIds: $ids}) { runs { info { runId } } }
    }"""
    runs = graphql(bob, search, ids=[hidden, shared])["data"]["mlflowSearchRuns"]["runs"]
    assert runs == [{"info": {"runId": shared_run}}]
    assert graphql(admin, search, ids=[hidden, shared])["errors"] is None
    assert (
        len(graphql(admin, search, ids=[hidden, shared])["data"]["mlflowSearchRuns"]["runs"]) == 2
    )


def _nested_runs_query() -> str:
    """10 aliased searches, each run asking for its experiment and 5 aliased model versions."""
    versions = " ".join(f"v{i}: modelVersions {{ name version }}" for i in range(5))
    fields = " ".join(
        f"s{i}: mlflowSearchRuns(input: $data) {{ runs {{ info {{ runId }} "
        f"experiment {{ name }} {versions} }} }}"
        for i in range(10)
    )
    return f"query($data: MlflowSearchRunsInput!) {{ {fields} }}"


def test_nested_run_fields_cost_no_query_per_run(
    sqlite_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = sqlite_app.test_client()
    experiment_id = client.post(f"{API}/experiments/create", json={"name": "many"}).json[
        "experiment_id"
    ]
    client.post(f"{API}/registered-models/create", json={"name": "m"})
    database = sqlite_app.extensions["registry"].database
    execute_sql = database.execute_sql
    statements: list[str] = []

    def counted(sql: str, *args: Any, **kwargs: Any) -> Any:
        statements.append(sql)
        return execute_sql(sql, *args, **kwargs)

    monkeypatch.setattr(database, "execute_sql", counted)
    query, data = _nested_runs_query(), {"experimentIds": [experiment_id]}
    counts = []
    for total in (2, 12):
        while len(graphql(client, query, data=data)["data"]["s0"]["runs"]) < total:
            run_id = _run(client, experiment_id)
            version = {"name": "m", "source": f"runs:/{run_id}/model", "run_id": run_id}
            assert client.post(f"{API}/model-versions/create", json=version).status_code == 200
        statements.clear()
        body = graphql(client, query, data=data)
        counts.append(len(statements))
        assert body["errors"] is None
        runs = body["data"]["s9"]["runs"]
        assert len(runs) == total
        assert {r["experiment"]["name"] for r in runs} == {"many"}
        assert all(len(r["v4"]) == 1 and r["v4"][0]["name"] == "m" for r in runs)
    # 6x the runs, the same statements: a run's nested fields are read for all runs at once
    assert counts[0] == counts[1], counts
