"""Metric logging and history REST API on every engine."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

API = "/api/2.0/mlflow"


def _run_id(client: FlaskClient) -> str:
    return str(
        client.post(f"{API}/runs/create", json={"experiment_id": "0"}).json["run"]["info"]["run_id"]
    )


def _history(client: FlaskClient, run_id: str, key: str, **extra: Any) -> dict[str, Any]:
    query = {"run_id": run_id, "run_uuid": run_id, "metric_key": key, **extra}
    body: dict[str, Any] = client.get(f"{API}/metrics/get-history", query_string=query).json
    return body


def test_non_finite_values_are_strings_both_ways(sqlite_client: FlaskClient) -> None:
    run_id = _run_id(sqlite_client)
    for step, value in enumerate(["NaN", "Infinity", "-Infinity", 2.5]):
        body = {"run_id": run_id, "key": "x", "value": value, "timestamp": 10, "step": step}
        assert sqlite_client.post(f"{API}/runs/log-metric", json=body).json == {}
    metrics = _history(sqlite_client, run_id, "x", max_results="25000")["metrics"]
    assert [m["value"] for m in metrics] == ["NaN", "Infinity", "-Infinity", 2.5]
    assert metrics[0] == {"key": "x", "value": "NaN", "timestamp": 10, "step": 0}


def test_history_paging_and_unknown_key(client: FlaskClient) -> None:
    run_id = _run_id(client)
    batch = [{"key": "m", "value": s, "timestamp": 1, "step": s} for s in range(5)]
    client.post(f"{API}/runs/log-batch", json={"run_id": run_id, "metrics": batch})
    first = _history(client, run_id, "m", max_results="3")
    second = _history(client, run_id, "m", max_results="3", page_token=first["next_page_token"])
    assert [m["step"] for m in first["metrics"] + second["metrics"]] == [0, 1, 2, 3, 4]
    assert "next_page_token" not in second
    assert _history(client, run_id, "unknown") == {}


def test_duplicate_point_is_stored_once(client: FlaskClient) -> None:
    run_id = _run_id(client)
    body = {"run_id": run_id, "key": "m", "value": 1.0, "timestamp": 7, "step": 3}
    for _ in range(3):
        assert client.post(f"{API}/runs/log-metric", json=body).status_code == 200
    assert len(_history(client, run_id, "m")["metrics"]) == 1


def test_bad_metric_requests_change_nothing(sqlite_client: FlaskClient) -> None:
    run_id = _run_id(sqlite_client)
    for body in (
        {"run_id": run_id, "key": "m", "value": "abc", "timestamp": 1},
        {"run_id": run_id, "key": "m", "value": 1.0, "timestamp": 1.5},
        {"run_id": run_id, "key": "m", "value": 1.0},
        {"run_id": run_id, "key": "bad!", "value": 1.0, "timestamp": 1},
    ):
        response = sqlite_client.post(f"{API}/runs/log-metric", json=body)
        assert (response.status_code, response.json["error_code"]) == (
            400,
            "INVALID_PARAMETER_VALUE",
        )
    assert _history(sqlite_client, run_id, "m") == {}


def test_bulk_interval_carries_run_ids(client: FlaskClient) -> None:
    run_ids = [_run_id(client), _run_id(client)]
    for run_id in run_ids:
        batch = [{"key": "m", "value": s, "timestamp": 1, "step": s} for s in range(10)]
        client.post(f"{API}/runs/log-batch", json={"run_id": run_id, "metrics": batch})
    query = {
        "run_ids": run_ids,
        "metric_key": "m",
        "start_step": "0",
        "end_step": "9",
        "max_results": "4",
    }
    metrics = client.get(f"{API}/metrics/get-history-bulk-interval", query_string=query).json[
        "metrics"
    ]
    assert [m["run_id"] for m in metrics] == [run_ids[0]] * 4 + [run_ids[1]] * 4
    assert [m["step"] for m in metrics[:4]] == [0, 3, 6, 9]


def test_artifacts_list_paths_are_relative_to_run_root(
    sqlite_client: FlaskClient, artifact_root: Any
) -> None:
    run = sqlite_client.post(f"{API}/runs/create", json={"experiment_id": "0"}).json["run"]["info"]
    folder = artifact_root / "0" / run["run_id"] / "artifacts" / "models_pickle"
    folder.mkdir(parents=True)
    (folder / "lin_reg.bin").write_bytes(b"12345")
    top = sqlite_client.get(f"{API}/artifacts/list", query_string={"run_id": run["run_id"]}).json
    assert top == {
        "root_uri": run["artifact_uri"],
        "files": [{"path": "models_pickle", "is_dir": True}],
    }
    query = {"run_id": run["run_id"], "path": "models_pickle"}
    inner = sqlite_client.get(f"{API}/artifacts/list", query_string=query).json
    assert inner["files"] == [
        {"path": "models_pickle/lin_reg.bin", "is_dir": False, "file_size": 5}
    ]
    escape = sqlite_client.get(f"{API}/artifacts/list", query_string={**query, "path": "../x"})
    assert escape.status_code == 400
