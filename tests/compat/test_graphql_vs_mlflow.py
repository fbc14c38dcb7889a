"""``/graphql`` beside a real ``mlflow server``: the same schema, and the same answers' shapes.

One MLflow server for the module. Both servers get the same data through their REST APIs, then
the same GraphQL requests (the queries MLflow's web UI sends); statuses and the shapes of the
bodies (keys, nesting, JSON types of the values) must match. Ids and times differ, so values
are compared only where both sides know them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from flask.testing import FlaskClient

from tests.conftest import free_port
from tests.mlflow_env import MLFLOW_SERVER, MLFLOW_SERVER_QUIET, mlflow_python
from tests.registry.api.test_graphql import BULK_INTERVAL, GET_EXPERIMENT, GET_RUN
from tests.servers import process

pytestmark = [pytest.mark.compat, pytest.mark.e2e, pytest.mark.timeout(600)]

API = "/api/2.0/mlflow"
Send = Callable[[str, str, Any], tuple[int, Any]]

SEARCH_RUNS = """
query SearchRuns($data: MlflowSearchRunsInput!) {
  mlflowSearchRuns(input: $data) {
    apiError { helpUrl code message }
    runs { info { runName status runUuid experimentId artifactUri endTime lifecycleStage
                  startTime userId }
           data { metrics { key value step timestamp } params { key value } tags { key value } } }
    nextPageToken
  }
}"""
LIST_ARTIFACTS = """
query($data: MlflowListArtifactsInput) {
  mlflowListArtifacts(input: $data) { rootUri files { path isDir fileSize } nextPageToken }
}"""
SEARCH_DATASETS = """
mutation($data: MlflowSearchDatasetsInput) {
  mlflowSearchDatasets(input: $data) { datasetSummaries { experimentId name digest context } }
}"""
# Deep enough for every type reference of the schema, and within MLflow's depth limit.
TYPE_REF = "name kind ofType { name kind ofType { name kind ofType { name kind } } }"
SCHEMA = (
    "{ __schema { types { name kind enumValues { name } fields { name type { TYPE } } "
    "inputFields { name type { TYPE } } } } }"
).replace("TYPE", TYPE_REF)


def _populate(send: Send) -> dict[str, str]:
    """The same experiment, run, metrics, param, dataset and artifact on one server."""
    _, created = send("POST", f"{API}/experiments/create", {"name": "gql"})
    experiment_id = created["experiment_id"]
    body = {"experiment_id": experiment_id, "run_name": "r1", "start_time": 1000}
    _, run = send("POST", f"{API}/runs/create", body)
    run_id = run["run"]["info"]["run_id"]
    points = [
        {"key": "loss", "value": 1 / (s + 1), "timestamp": 100 + s, "step": s} for s in range(5)
    ]
    points += [{"key": "odd", "value": "NaN", "timestamp": 7, "step": 0}]
    params = [{"key": "lr", "value": "0.1"}]
    send("POST", f"{API}/runs/log-batch", {"run_id": run_id, "metrics": points, "params": params})
    dataset = {"name": "train", "digest": "d1", "source_type": "local", "source": "{}"}
    tags = [{"key": "mlflow.data.context", "value": "training"}]
    send(
        "POST",
        f"{API}/runs/log-inputs",
        {"run_id": run_id, "datasets": [{"dataset": dataset, "tags": tags}]},
    )
    path = f"/api/2.0/mlflow-artifacts/artifacts/{experiment_id}/{run_id}/artifacts/dir/a.txt"
    send("PUT", path, b"hello")
    return {"experiment_id": experiment_id, "run_id": run_id}


@pytest.fixture(scope="module")
def mlflow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Send, dict[str, str]]]:
    """A real ``mlflow server`` (SQLite, proxied artifacts) with the data, and a sender to it."""
    python = mlflow_python(MLFLOW_SERVER)
    tmp = tmp_path_factory.mktemp("mlflow-graphql")
    port = free_port()
    args = [
        str(python), "-m", "mlflow", "server",
        "--backend-store-uri", f"sqlite:///{tmp / 'mlflow.db'}",
        "--artifacts-destination", str(tmp / "artifacts"),
        "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
    ]  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    with (
        process(args, f"{base}/health", tmp / "mlflow.log", env=MLFLOW_SERVER_QUIET, timeout=180),
        httpx.Client(base_url=base, timeout=120) as http,
    ):

        def send(method: str, path: str, body: Any) -> tuple[int, Any]:
            if isinstance(body, bytes):
                reply = http.request(method, path, content=body)
            else:
                reply = http.request(method, path, json=body)
            assert reply.status_code < 500 or path == "/graphql", reply.text
            return reply.status_code, reply.json() if reply.content else None

        yield send, _populate(send)


@pytest.fixture
def ours(sqlite_client: FlaskClient) -> tuple[Send, dict[str, str]]:
    def send(method: str, path: str, body: Any) -> tuple[int, Any]:
        if isinstance(body, bytes):
            reply = sqlite_client.open(path, method=method, data=body)
        else:
            reply = sqlite_client.open(path, method=method, json=body)
        return reply.status_code, reply.get_json(silent=True)

    return send, _populate(send)


def shape(value: Any) -> Any:
    """A JSON value with every leaf replaced by its JSON type (null stays null)."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(item) for item in value]
    return None if value is None else type(value).__name__


def _ask(side: tuple[Send, dict[str, str]], query: str, variables: Any) -> tuple[int, Any]:
    send, ids = side
    filled = variables(ids) if callable(variables) else variables
    return send("POST", "/graphql", {"query": query, "variables": filled})


CASES = {
    "get run": (GET_RUN, lambda ids: {"data": {"runId": ids["run_id"]}}),
    "get experiment": (
        GET_EXPERIMENT,
        lambda ids: {"input": {"experimentId": ids["experiment_id"]}},
    ),
    "search runs": (SEARCH_RUNS, lambda ids: {"data": {"experimentIds": [ids["experiment_id"]]}}),
    "bulk interval": (
        BULK_INTERVAL,
        lambda ids: {"data": {"runIds": [ids["run_id"]], "metricKey": "loss"}},
    ),
    "list artifacts": (LIST_ARTIFACTS, lambda ids: {"data": {"runId": ids["run_id"]}}),
    "search datasets": (
        SEARCH_DATASETS,
        lambda ids: {"data": {"experimentIds": [ids["experiment_id"]]}},
    ),
    "unknown run": (GET_RUN, {"data": {"runId": "0" * 32}}),
}


@pytest.mark.parametrize("case", list(CASES))
def test_the_same_request_gets_the_same_status_and_shape(
    mlflow: tuple[Send, dict[str, str]], ours: tuple[Send, dict[str, str]], case: str
) -> None:
    query, variables = CASES[case]
    theirs_status, theirs = _ask(mlflow, query, variables)
    our_status, answer = _ask(ours, query, variables)
    assert our_status == theirs_status == 200
    assert shape(answer) == shape(theirs)


def test_the_limits_answer_mlflow_message(
    mlflow: tuple[Send, dict[str, str]], ours: tuple[Send, dict[str, str]]
) -> None:
    too_wide = (
        "{ " + " ".join(f'f{i}: test(inputString: "x") {{ output }}' for i in range(11)) + " }"
    )
    _, theirs = _ask(mlflow, too_wide, None)
    _, answer = _ask(ours, too_wide, None)
    assert answer["data"] is theirs["data"] is None
    # MLflow's message goes on to name its environment variable, which we do not read.
    assert theirs["errors"][0].startswith(answer["errors"][0])


def test_the_schema_is_mlflow_schema(
    mlflow: tuple[Send, dict[str, str]], ours: tuple[Send, dict[str, str]]
) -> None:
    """Every type, field, argument-input field and enum value MLflow declares, typed alike."""
    _, theirs = _ask(mlflow, SCHEMA, None)
    _, answer = _ask(ours, SCHEMA, None)
    assert theirs["errors"] is None
    assert _types(answer) == _types(theirs)


def _types(body: dict[str, Any]) -> dict[str, Any]:
    found = {}
    for item in body["data"]["__schema"]["types"]:
        if item["name"].startswith("__"):
            continue
        fields = item["fields"] or item["inputFields"] or []
        found[item["name"]] = {
            "kind": item["kind"],
            "fields": {f["name"]: f["type"] for f in fields},
            "enum": sorted(v["name"] for v in item["enumValues"] or []),
        }
    return found
