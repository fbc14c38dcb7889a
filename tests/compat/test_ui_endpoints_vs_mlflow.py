"""The same requests to a real ``mlflow server`` and to ours: MLflow's web UI endpoints where the
shapes are subtle (bulk-interval sampling, dataset summaries, attachment headers)."""

from __future__ import annotations

import random
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from flask.testing import FlaskClient

from registry.config import Config
from tests.conftest import free_port
from tests.mlflow_env import MLFLOW_SERVER, MLFLOW_SERVER_QUIET, mlflow_python
from tests.servers import process

pytestmark = [pytest.mark.compat, pytest.mark.e2e, pytest.mark.timeout(600)]

API = "/api/2.0/mlflow"
AJAX = "/ajax-api/2.0/mlflow"


@dataclass
class Side:
    """One server: how to send a request, and the ids its runs and experiment got."""

    send: Any
    experiment_id: str = ""
    runs: tuple[str, ...] = ()

    def call(self, method: str, path: str, **kwargs: Any) -> tuple[int, Any, dict[str, str]]:
        status, body, headers = self.send(method, path, **kwargs)
        return status, body, {k.lower(): v for k, v in headers.items()}


def _populate(side: Side) -> None:
    _, created, _ = side.call("POST", f"{API}/experiments/create", json={"name": "ui"})
    side.experiment_id = created["experiment_id"]
    runs = []
    for _ in range(3):
        _, run, _ = side.call(
            "POST", f"{API}/runs/create", json={"experiment_id": created["experiment_id"]}
        )
        runs.append(run["run"]["info"]["run_id"])
    side.runs = tuple(runs)
    points = random.Random(7)
    for index, run_id in enumerate(runs):
        # Repeated steps and timestamps, so the order of ties is compared too.
        metrics = [
            {"key": "loss", "value": points.random(), "timestamp": points.randint(0, 5),
             "step": points.randint(0, 60)}
            for _ in range(150 + 40 * index)
        ]  # fmt: skip
        for start in range(0, len(metrics), 100):
            body = {"run_id": run_id, "metrics": metrics[start : start + 100]}
            side.call("POST", f"{API}/runs/log-batch", json=body)
    odd = [
        {"key": "odd", "value": value, "timestamp": 1, "step": step}
        for step, value in enumerate(("Infinity", 0.5, "-Infinity"))
    ]
    side.call("POST", f"{API}/runs/log-batch", json={"run_id": runs[0], "metrics": odd})
    contexts = ("training", None, "evaluation")
    for (run_id, context), name in zip(
        zip(runs, contexts, strict=True), ("a", "a", "b"), strict=True
    ):
        dataset = {"name": name, "digest": f"d-{name}", "source_type": "local", "source": "{}"}
        tags = [{"key": "mlflow.data.context", "value": context}] if context else []
        body = {"run_id": run_id, "datasets": [{"dataset": dataset, "tags": tags}]}
        side.call("POST", f"{API}/runs/log-inputs", json=body)
    for name in ("report.html", "plot.svg", "MLmodel", "plot.png", "日本.txt", "model.pkl"):
        query = {"run_uuid": runs[0], "path": f"out/{name}"}
        side.call("POST", f"{AJAX}/upload-artifact", params=query, content=b"<b>1</b>")


@pytest.fixture(scope="module")
def sides(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Side, Side]]:
    from registry.server.app import create_app

    tmp = tmp_path_factory.mktemp("ui-vs-mlflow")
    port = free_port()
    args = [
        str(mlflow_python(MLFLOW_SERVER)), "-m", "mlflow", "server",
        "--backend-store-uri", f"sqlite:///{tmp / 'mlflow.db'}",
        "--artifacts-destination", str(tmp / "mlflow-artifacts"),
        "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
    ]  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    app = create_app(
        Config(
            database_url=f"sqlite:///{tmp / 'ours.db'}",
            artifact_root=str(tmp / "our-artifacts"),
            auto_migrate=True,
        )
    )
    ours_client: FlaskClient = app.test_client()
    with (
        process(args, f"{base}/health", tmp / "mlflow.log", env=MLFLOW_SERVER_QUIET, timeout=180),
        httpx.Client(base_url=base, timeout=30) as http,
    ):

        def mlflow(method: str, path: str, **kwargs: Any) -> Any:
            reply = http.request(method, path, **kwargs)
            body = (
                reply.json()
                if "json" in reply.headers.get("content-type", "") and reply.content
                else reply.content
            )
            return reply.status_code, body, dict(reply.headers)

        def ours(method: str, path: str, **kwargs: Any) -> Any:
            reply = ours_client.open(
                path,
                method=method,
                query_string=kwargs.get("params"),
                json=kwargs.get("json"),
                data=kwargs.get("content"),
            )
            body = reply.json if reply.is_json and reply.data else reply.data
            return reply.status_code, body, dict(reply.headers)

        pair = (Side(mlflow), Side(ours))
        for side in pair:
            _populate(side)
        yield pair
    app.extensions["registry"].database.close_all()


def _by_run(side: Side, metrics: list[dict[str, Any]]) -> list[list[tuple[Any, ...]]]:
    # Run ids differ between the servers: compare each run's points, in the order named.
    return [
        [(m["step"], m["timestamp"], m["value"]) for m in metrics if m["run_id"] == run_id]
        for run_id in side.runs
    ]


@pytest.mark.parametrize(
    "extra",
    [
        {},
        {"max_results": "1"},
        {"max_results": "7"},
        {"max_results": "64"},
        {"max_results": "150"},
        {"max_results": "9", "start_step": "10", "end_step": "40"},
        {"max_results": "3", "start_step": "59", "end_step": "70"},
    ],
)
def test_bulk_interval_samples_the_same_points(
    sides: tuple[Side, Side], extra: dict[str, str]
) -> None:
    answers = []
    for side in sides:
        query = [("run_ids", r) for r in reversed(side.runs)] + [("metric_key", "loss")]
        status, body, _ = side.call(
            "GET", f"{AJAX}/metrics/get-history-bulk-interval", params=[*query, *extra.items()]
        )
        assert status == 200
        answers.append(_by_run(side, body.get("metrics", [])))
    assert answers[0] == answers[1]
    assert any(answers[0])


def test_history_bulk_answers_the_same_points(sides: tuple[Side, Side]) -> None:
    answers = []
    for side in sides:
        query = [("run_id", r) for r in side.runs] + [("metric_key", "loss")]
        url = f"{AJAX}/metrics/get-history-bulk"
        status, body, _ = side.call("GET", url, params=query)
        assert status == 200
        run_order = list(dict.fromkeys(m["run_id"] for m in body["metrics"]))
        assert run_order == sorted(side.runs)
        answers.append(_by_run(side, body["metrics"]))
        _, capped, _ = side.call("GET", url, params=[*query, ("max_results", "400")])
        assert len(capped["metrics"]) == 400
    assert answers[0] == answers[1]


@pytest.mark.parametrize(
    ("endpoint", "run_arg"),
    [("get-history-bulk", "run_id"), ("get-history-bulk-interval", "run_ids")],
)
def test_bulk_histories_answer_infinities_the_same(
    sides: tuple[Side, Side], endpoint: str, run_arg: str
) -> None:
    answers = []
    for side in sides:
        query = {run_arg: side.runs[0], "metric_key": "odd"}
        status, body, _ = side.call("GET", f"{AJAX}/metrics/{endpoint}", params=query)
        assert status == 200
        answers.append([(m["step"], m["value"]) for m in body["metrics"]])
    assert answers[0] == answers[1]
    assert [value for _, value in answers[0]] == [sys.float_info.max, 0.5, -sys.float_info.max]


def test_search_datasets_answers_the_same_summaries(sides: tuple[Side, Side]) -> None:
    answers = []
    for side in sides:
        for bad in ({}, {"experiment_ids": [str(i) for i in range(21)]}):
            status, body, _ = side.call("POST", f"{AJAX}/experiments/search-datasets", json=bad)
            assert (status, body["error_code"]) == (400, "INVALID_PARAMETER_VALUE")
        body = {"experiment_ids": [side.experiment_id]}
        status, found, _ = side.call("POST", f"{AJAX}/experiments/search-datasets", json=body)
        assert status == 200
        summaries = found["dataset_summaries"]
        for summary in summaries:
            assert summary.pop("experiment_id") == side.experiment_id
        answers.append(sorted(summaries, key=lambda s: sorted(s.items())))
    assert answers[0] == answers[1]
    assert len(answers[0]) == 3


@pytest.mark.parametrize(
    "name", ["report.html", "plot.svg", "MLmodel", "plot.png", "日本.txt", "model.pkl"]
)
def test_get_artifact_sends_the_same_attachment(sides: tuple[Side, Side], name: str) -> None:
    replies = [
        side.call("GET", "/get-artifact", params={"run_uuid": side.runs[0], "path": f"out/{name}"})
        for side in sides
    ]
    (theirs_status, theirs_body, theirs), (ours_status, ours_body, ours) = replies
    assert (theirs_status, theirs_body) == (ours_status, ours_body) == (200, b"<b>1</b>")
    for header in ("content-disposition", "x-content-type-options"):
        assert theirs[header] == ours[header]
    if name in ("report.html", "plot.svg"):  # MLflow sends these as guessed; we never do
        assert (theirs["content-type"], ours["content-type"]) != ("text/plain", "text/plain")
        assert ours["content-type"] == "text/plain"
    else:
        assert theirs["content-type"] == ours["content-type"]


def test_unsafe_paths_are_refused_by_both(sides: tuple[Side, Side]) -> None:
    for side in sides:
        for path in ("../x", "/etc/passwd", "a/../../x"):
            query = {"run_uuid": side.runs[0], "path": path}
            status, body, _ = side.call("GET", "/get-artifact", params=query)
            assert (status, body["error_code"]) == (400, "INVALID_PARAMETER_VALUE")
            status, body, _ = side.call(
                "POST", f"{AJAX}/upload-artifact", params=query, content=b"x"
            )
            assert (status, body["error_code"]) == (400, "INVALID_PARAMETER_VALUE")
