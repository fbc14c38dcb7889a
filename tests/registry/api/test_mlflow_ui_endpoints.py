"""What MLflow's web UI calls: the ``/ajax-api`` forms, bulk metric histories, dataset summaries,
``upload-artifact`` and the attachment downloads (``get-artifact`` and its siblings)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

API = "/api/2.0/mlflow"
AJAX = "/ajax-api/2.0/mlflow"
BULK = f"{AJAX}/metrics/get-history-bulk"
INTERVAL = f"{AJAX}/metrics/get-history-bulk-interval"
DATASETS = f"{AJAX}/experiments/search-datasets"
UPLOAD = f"{AJAX}/upload-artifact"
ODD = (1.5, "NaN", "Infinity", "-Infinity")


def _experiment(client: FlaskClient, name: str) -> str:
    return str(client.post(f"{AJAX}/experiments/create", json={"name": name}).json["experiment_id"])


def _run(client: FlaskClient, experiment_id: str = "0") -> str:
    body = {"experiment_id": experiment_id}
    return str(client.post(f"{AJAX}/runs/create", json=body).json["run"]["info"]["run_id"])


def _log(client: FlaskClient, run_id: str, points: list[tuple[int, int, float]]) -> None:
    metrics = [{"key": "m", "value": v, "timestamp": t, "step": s} for s, t, v in points]
    for start in range(0, len(metrics), 1000):
        chunk = metrics[start : start + 1000]
        assert (
            client.post(f"{API}/runs/log-batch", json={"run_id": run_id, "metrics": chunk}).json
            == {}
        )


def _error(reply: Any) -> tuple[int, str, str]:
    return reply.status_code, reply.json["error_code"], reply.json["message"]


def test_the_api_answers_under_ajax_api_with_the_same_routes(sqlite_client: FlaskClient) -> None:
    experiment_id = _experiment(sqlite_client, "ajax")
    run_id = _run(sqlite_client, experiment_id)
    got = sqlite_client.get(f"{API}/runs/get", query_string={"run_id": run_id}).json
    assert got["run"]["info"]["experiment_id"] == experiment_id
    root = f"{experiment_id}/{run_id}/artifacts"
    proxied = "/ajax-api/2.0/mlflow-artifacts/artifacts"
    assert sqlite_client.put(f"{proxied}/{root}/a.bin", data=b"bytes").status_code == 200
    assert sqlite_client.get(f"/api/2.0/mlflow-artifacts/artifacts/{root}/a.bin").data == b"bytes"
    listed = sqlite_client.get(f"{AJAX}/artifacts/list", query_string={"run_id": run_id}).json
    assert listed["files"] == [{"path": "a.bin", "is_dir": False, "file_size": 5}]
    info = sqlite_client.get("/ajax-api/3.0/mlflow/server-info")
    assert info.json == sqlite_client.get("/api/3.0/mlflow/server-info").json
    missing = sqlite_client.get(f"{AJAX}/no-such-endpoint")
    assert (missing.status_code, missing.json["error_code"]) == (404, "ENDPOINT_NOT_FOUND")
    # The endpoints MLflow serves only to its UI are only under /ajax-api, as in MLflow.
    assert sqlite_client.get(f"{API}/metrics/get-history-bulk").status_code == 404


def test_a_foreign_origin_or_a_form_post_changes_nothing_under_ajax_api(
    sqlite_client: FlaskClient,
) -> None:
    foreign = {"Origin": "http://attacker.example"}
    run_id = _run(sqlite_client)
    for path, body in (
        (f"{AJAX}/runs/create", {"experiment_id": "0"}),
        (f"{AJAX}/runs/set-tag", {"run_id": run_id, "key": "k", "value": "v"}),
        (DATASETS, {"experiment_ids": ["0"]}),
    ):
        assert sqlite_client.post(path, json=body, headers=foreign).status_code == 403
        text = sqlite_client.post(path, data="{}", content_type="text/plain")
        assert text.status_code == 415
    upload = sqlite_client.post(
        UPLOAD, query_string={"run_uuid": run_id, "path": "x.txt"}, data=b"x", headers=foreign
    )
    assert upload.status_code == 403
    runs = sqlite_client.post(f"{API}/runs/search", json={"experiment_ids": ["0"]}).json["runs"]
    assert [r["info"]["run_id"] for r in runs] == [run_id]
    assert "tags" not in runs[0]["data"] or all(t["key"] != "k" for t in runs[0]["data"]["tags"])
    listed = sqlite_client.get(f"{API}/artifacts/list", query_string={"run_id": run_id}).json
    assert "files" not in listed


def test_history_bulk_orders_by_run_then_time_and_caps_all_points(client: FlaskClient) -> None:
    first, second = sorted([_run(client), _run(client)])
    _log(client, second, [(0, 5, 1.0), (1, 6, 2.0)])
    _log(client, first, [(2, 1, 3.0), (0, 3, 4.0), (1, 2, float("nan"))])
    query = [("run_id", second), ("run_id", "no-such-run"), ("run_id", first), ("metric_key", "m")]
    metrics = client.get(BULK, query_string=query).json["metrics"]
    seen = [(m["run_id"], m["timestamp"], m["step"], m["value"]) for m in metrics]
    assert seen == [
        (first, 1, 2, 3.0),
        (first, 2, 1, "NaN"),
        (first, 3, 0, 4.0),
        (second, 5, 0, 1.0),
        (second, 6, 1, 2.0),
    ]
    assert set(metrics[0]) == {"key", "value", "timestamp", "step", "run_id"}
    capped = client.get(BULK, query_string=[*query, ("max_results", "4")]).json["metrics"]
    assert len(capped) == 4
    empty = client.get(BULK, query_string=[("run_id", first), ("metric_key", "other")])
    assert empty.json == {"metrics": []}


def test_history_bulk_refuses_what_mlflow_refuses(sqlite_client: FlaskClient) -> None:
    assert _error(sqlite_client.get(BULK, query_string={"metric_key": "m"})) == (
        400,
        "INVALID_PARAMETER_VALUE",
        "GetMetricHistoryBulk request must specify at least one run_id.",
    )
    assert _error(sqlite_client.get(BULK, query_string={"run_id": "r"}))[2] == (
        "GetMetricHistoryBulk request must specify a metric_key."
    )
    many = [("run_id", str(i)) for i in range(101)] + [("metric_key", "m")]
    assert _error(sqlite_client.get(BULK, query_string=many))[2] == (
        "GetMetricHistoryBulk request cannot specify more than 100 run_ids. Received 101 run_ids."
    )


def test_bulk_histories_answer_infinities_as_mlflow_sql_store_keeps_them(
    client: FlaskClient,
) -> None:
    run_id = _run(client)
    points = [{"key": "m", "value": v, "timestamp": 1, "step": s} for s, v in enumerate(ODD)]
    assert (
        client.post(f"{API}/runs/log-batch", json={"run_id": run_id, "metrics": points}).json == {}
    )
    for url, query in (
        (BULK, {"run_id": run_id, "metric_key": "m"}),
        (INTERVAL, {"run_ids": run_id, "metric_key": "m"}),
    ):
        reply = client.get(url, query_string=query)
        assert reply.status_code == 200
        # NaN stays "NaN"; an infinity is the largest double of its sign, as in MLflow's answers
        assert [m["value"] for m in reply.json["metrics"]] == [
            1.5,
            "NaN",
            sys.float_info.max,
            -sys.float_info.max,
        ]
    assert (
        b"1.7976931348623157e+308"
        in client.get(BULK, query_string={"run_id": run_id, "metric_key": "m"}).data
    )


def test_bulk_interval_keeps_the_first_point_of_each_bucket_and_the_last(
    client: FlaskClient,
) -> None:
    runs = [_run(client), _run(client)]
    _log(client, runs[0], [(s, 0, float(s)) for s in range(20)])
    _log(client, runs[1], [(s, 0, float(s)) for s in range(0, 40, 2)])

    def steps(**query: Any) -> dict[str, list[int]]:
        args = {"run_ids": list(reversed(runs)), "metric_key": "m", **query}
        metrics = client.get(INTERVAL, query_string=args).json.get("metrics", [])
        found: dict[str, list[int]] = {}
        for m in metrics:
            found.setdefault(m["run_id"], []).append(int(m["step"]))
        return found

    # 20 points in 6 buckets (4, 4, 3, 3, 3, 3): firsts 0, 4, 8, 11, 14, and the last, 19.
    assert steps(max_results=6) == {
        runs[1]: [0, 8, 16, 22, 28, 38],
        runs[0]: [0, 4, 8, 11, 14, 19],
    }
    assert steps(max_results=1) == {runs[1]: [38], runs[0]: [19]}
    assert steps(max_results=25) == {runs[1]: list(range(0, 40, 2)), runs[0]: list(range(20))}
    ranged = steps(start_step=5, end_step=12, max_results=3)
    assert ranged == {runs[1]: [6, 10, 12], runs[0]: [5, 8, 12]}
    assert list(steps()) == [runs[1], runs[0]]  # the order the runs were named in


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (
            {"metric_key": "m"},
            "Missing value for required parameter 'run_ids'. See the API docs for more "
            "information about request parameters.",
        ),
        (
            {"run_ids": "r", "metric_key": "m", "start_step": "3"},
            "If either start step or end step are specified, both must be specified.",
        ),
        (
            {"run_ids": "r", "metric_key": "m", "start_step": "3", "end_step": "1"},
            "end_step must be greater than start_step. Found start_step=3 and end_step=1.",
        ),
        (
            {"run_ids": "r", "metric_key": "m", "max_results": "2501"},
            "max_results must be between 1 and 2500. See the API docs for more information "
            "about request parameters.",
        ),
        (
            {"run_ids": [str(i) for i in range(101)], "metric_key": "m"},
            "GetMetricHistoryBulkInterval request must specify at most 100 run_ids. Received "
            "101 run_ids. See the API docs for more information about request parameters.",
        ),
    ],
)
def test_bulk_interval_refuses_what_mlflow_refuses(
    sqlite_client: FlaskClient, query: dict[str, Any], message: str
) -> None:
    reply = sqlite_client.get(INTERVAL, query_string=query)
    assert _error(reply) == (400, "INVALID_PARAMETER_VALUE", message)


def _inputs(client: FlaskClient, run_id: str, *datasets: tuple[str, str, str | None]) -> None:
    items = []
    for name, digest, context in datasets:
        dataset = {"name": name, "digest": digest, "source_type": "local", "source": "{}"}
        tags = [{"key": "mlflow.data.context", "value": context}] if context else []
        items.append({"dataset": dataset, "tags": tags})
    assert (
        client.post(f"{API}/runs/log-inputs", json={"run_id": run_id, "datasets": items}).json == {}
    )


def test_search_datasets_lists_each_dataset_once_per_context(client: FlaskClient) -> None:
    mine, other = _experiment(client, "mine"), _experiment(client, "other")
    first, second, third = _run(client, mine), _run(client, mine), _run(client, mine)
    _inputs(client, first, ("train", "d1", "training"), ("eval", "d2", "evaluation"))
    _inputs(client, second, ("train", "d1", "training"))
    _inputs(client, third, ("train", "d1", None))
    _inputs(client, _run(client, other), ("elsewhere", "d3", "training"))
    found = client.post(DATASETS, json={"experiment_ids": [mine]}).json["dataset_summaries"]
    assert sorted(found, key=lambda s: (s["name"], s.get("context", ""))) == [
        {"experiment_id": mine, "name": "eval", "digest": "d2", "context": "evaluation"},
        {"experiment_id": mine, "name": "train", "digest": "d1"},
        {"experiment_id": mine, "name": "train", "digest": "d1", "context": "training"},
    ]
    both = client.post(DATASETS, json={"experiment_ids": [mine, other]}).json
    assert len(both["dataset_summaries"]) == 4
    assert client.post(DATASETS, json={"experiment_ids": ["0"]}).json == {}


def test_search_datasets_refuses_what_mlflow_refuses(sqlite_client: FlaskClient) -> None:
    assert _error(sqlite_client.post(DATASETS, json={}))[:2] == (400, "INVALID_PARAMETER_VALUE")
    many = {"experiment_ids": [str(i) for i in range(21)]}
    assert _error(sqlite_client.post(DATASETS, json=many))[2] == (
        "SearchDatasets request cannot specify more than 20 experiment_ids. Received 21 "
        "experiment_ids."
    )
    assert sqlite_client.post(DATASETS, json={"experiment_ids": ["x"]}).status_code == 400


def _files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_upload_artifact_writes_into_the_run_and_nowhere_else(
    sqlite_client: FlaskClient, artifact_root: Path
) -> None:
    run_id = _run(sqlite_client)
    reply = sqlite_client.post(
        UPLOAD, query_string={"run_uuid": run_id, "path": "notes/a.txt"}, data=b"hello"
    )
    assert (reply.status_code, reply.data, reply.mimetype) == (200, b"", "application/json")
    listed = sqlite_client.get(
        f"{API}/artifacts/list", query_string={"run_id": run_id, "path": "notes"}
    ).json
    assert listed["files"] == [{"path": "notes/a.txt", "is_dir": False, "file_size": 5}]
    before = _files(artifact_root)
    for path in ("../escape.txt", "/etc/x", "a/%2e%2e/%2e%2e/x", "..%2fx", "C:/x", "~/x", ""):
        refused = sqlite_client.post(
            UPLOAD, query_string={"run_uuid": run_id, "path": path}, data=b"evil"
        )
        assert refused.status_code == 400, path
    for query, body, message in (
        ({"path": "b.txt"}, b"x", "Request must specify run_uuid."),
        ({"run_uuid": run_id}, b"x", "Request must specify path."),
        ({"run_uuid": run_id, "path": "b.txt"}, b"", "Request must specify data."),
        (
            {"run_uuid": run_id, "path": "b.txt"},
            b"x" * (10 * 1024 * 1024 + 1),
            "Artifact size is too large. Max size is 10MB.",
        ),
    ):
        reply = sqlite_client.post(UPLOAD, query_string=query, data=body)
        assert _error(reply) == (400, "INVALID_PARAMETER_VALUE", message)
    missing = sqlite_client.post(UPLOAD, query_string={"run_uuid": "nope", "path": "b"}, data=b"x")
    assert missing.status_code == 404
    assert _files(artifact_root) == before


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        ("report.html", "text/plain"),
        ("page.xhtml", "text/plain"),
        ("plot.svg", "text/plain"),
        ("feed.xml", "text/plain"),
        ("app.js", "text/plain"),
        ("MLmodel", "text/plain"),
        ("metrics.json", "text/plain"),
        ("plot.png", "image/png"),
        ("paper.pdf", "application/pdf"),
        ("model.pkl", "application/octet-stream"),
    ],
)
def test_get_artifact_sends_an_attachment_that_cannot_run_script(
    sqlite_client: FlaskClient, name: str, content_type: str
) -> None:
    run_id = _run(sqlite_client)
    body = b"<svg onload=alert(1)><script>alert(1)</script></svg>"
    query = {"run_uuid": run_id, "path": f"out/{name}"}
    assert sqlite_client.post(UPLOAD, query_string=query, data=body).status_code == 200
    reply = sqlite_client.get("/get-artifact", query_string=query)
    assert reply.status_code == 200
    assert reply.data == body
    assert reply.headers["Content-Type"] == content_type
    assert reply.headers["Content-Disposition"] == f"attachment; filename={name}"
    assert reply.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in reply.headers["Content-Security-Policy"]


def test_get_artifact_names_files_and_refuses_paths_outside_the_run(
    sqlite_client: FlaskClient,
) -> None:
    run_id = _run(sqlite_client)
    query = {"run_id": run_id, "path": "日本語 report.txt"}
    sqlite_client.post(UPLOAD, query_string={"run_uuid": run_id, "path": query["path"]}, data=b"x")
    named = sqlite_client.get("/get-artifact", query_string=query)
    assert named.headers["Content-Disposition"] == (
        'attachment; filename=" report.txt"; '
        "filename*=UTF-8''%E6%97%A5%E6%9C%AC%E8%AA%9E%20report.txt"
    )
    for path in ("../../../etc/passwd", "/etc/passwd", "%2e%2e/x", ""):
        refused = sqlite_client.get("/get-artifact", query_string={"run_id": run_id, "path": path})
        assert refused.status_code == 400, path
    absent = sqlite_client.get("/get-artifact", query_string={"run_id": run_id, "path": "none"})
    assert (absent.status_code, absent.json["error_code"]) == (404, "RESOURCE_DOES_NOT_EXIST")


def test_logged_model_and_model_version_files_download_as_attachments(
    sqlite_client: FlaskClient,
) -> None:
    run_id = _run(sqlite_client)
    model = sqlite_client.post(
        f"{API}/logged-models", json={"experiment_id": "0", "name": "m", "source_run_id": run_id}
    ).json["model"]["info"]
    model_id = model["model_id"]
    root = model["artifact_uri"].removeprefix("mlflow-artifacts:/")
    proxied = f"/api/2.0/mlflow-artifacts/artifacts/{root}"
    sqlite_client.put(f"{proxied}/MLmodel", data=b"flavors: {}\n")
    sqlite_client.put(f"{proxied}/data/model.pkl", data=b"\x80\x04")
    files = f"{AJAX}/logged-models/{model_id}/artifacts/files"
    got = sqlite_client.get(files, query_string={"artifact_file_path": "data/model.pkl"})
    assert (got.data, got.headers["Content-Disposition"]) == (
        b"\x80\x04",
        "attachment; filename=model.pkl",
    )
    listed = sqlite_client.get(
        f"{AJAX}/logged-models/{model_id}/artifacts/directories",
        query_string={"artifact_directory_path": "data"},
    ).json
    assert [f["path"] for f in listed["files"]] == ["data/model.pkl"]
    assert sqlite_client.get(files).status_code == 400
    escape = sqlite_client.get(files, query_string={"artifact_file_path": "../../x"})
    assert escape.status_code == 400
    sqlite_client.post(f"{API}/registered-models/create", json={"name": "reg"})
    version = sqlite_client.post(
        f"{API}/model-versions/create",
        json={"name": "reg", "source": f"models:/{model_id}", "run_id": run_id},
    ).json["model_version"]
    query = {"name": "reg", "version": version["version"], "path": "MLmodel"}
    mlmodel = sqlite_client.get("/model-versions/get-artifact", query_string=query)
    assert (mlmodel.data, mlmodel.headers["Content-Type"]) == (b"flavors: {}\n", "text/plain")
    assert mlmodel.headers["Content-Disposition"] == "attachment; filename=MLmodel"
    outside = sqlite_client.get(
        "/model-versions/get-artifact", query_string={**query, "path": "../../../x"}
    )
    assert outside.status_code == 400


def test_the_ui_is_told_there_is_no_gateway_and_no_telemetry(sqlite_client: FlaskClient) -> None:
    query = {"gateway_path": "api/2.0/endpoints/"}
    assert sqlite_client.get(f"{AJAX}/gateway-proxy", query_string=query).json == {"endpoints": []}
    telemetry = "/ajax-api/3.0/mlflow/ui-telemetry"
    assert sqlite_client.get(telemetry).json["disable_ui_telemetry"] is True
    records = {"records": [{"event": "page_view"}]}
    assert sqlite_client.post(telemetry, json=records).json == {"status": "disabled"}


def _experiment_id_answers(client: FlaskClient, experiment_id: str) -> list[tuple[int, str]]:
    """How each route that takes an experiment id answers ``experiment_id``."""
    ids = {"experiment_ids": [experiment_id]}
    replies = [
        client.post(DATASETS, json=ids),
        client.get(f"{API}/experiments/get", query_string={"experiment_id": experiment_id}),
        client.post(f"{API}/runs/search", json=ids),
        client.post(f"{API}/logged-models/search", json=ids),
    ]
    answers = [(r.status_code, (r.json or {}).get("error_code", "")) for r in replies]
    graphql = [
        "query($id: String) { mlflowGetExperiment(input: {experimentId: $id}) "
        "{ experiment { name } } }",
        "mutation($id: String) { mlflowSearchDatasets(input: {experimentIds: [$id]}) "
        "{ datasetSummaries { name } } }",
    ]
    for query in graphql:
        reply = client.post("/graphql", json={"query": query, "variables": {"id": experiment_id}})
        answers.append((reply.status_code, " ".join(reply.json.get("errors") or [])))
    return answers


@pytest.mark.parametrize("experiment_id", ["99999999999999999999999", str(2**63), "-1"])
def test_an_experiment_id_no_experiment_can_have_is_invalid_on_every_route(
    client: FlaskClient, experiment_id: str
) -> None:
    invalid = "INVALID_PARAMETER_VALUE"
    message = f"Invalid experiment ID: '{experiment_id}'"
    assert (
        _experiment_id_answers(client, experiment_id) == [(400, invalid)] * 4 + [(200, message)] * 2
    )


def test_a_large_experiment_id_that_names_nothing_is_not_found(client: FlaskClient) -> None:
    largest = 2**63 - 1
    assert _experiment_id_answers(client, str(largest)) == [
        (200, ""),
        (404, "RESOURCE_DOES_NOT_EXIST"),
        (200, ""),
        (200, ""),
        (200, f"No Experiment with id={largest} exists"),
        (200, ""),
    ]
