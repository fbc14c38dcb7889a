"""The import endpoints on the real app (SQLite): ids and times kept, writes repeatable, bad
bodies refused with a JSON error and nothing written."""

from __future__ import annotations

import math

from flask import Flask

BASE = "/api/2.0/modelyard/imports"
RUN = {
    "run_id": "a" * 32,
    "experiment_id": 7,
    "name": "kept",
    "user_id": "ana",
    "status": "FINISHED",
    "start_time": 1_600_000_000_000,
    "end_time": 1_600_000_100_000,
    "params": {"alpha": "0.1"},
    "tags": {"mlflow.runName": "kept"},
    "metrics": [
        {"key": "loss", "steps": [0, 1, 2], "timestamps": [5, 6, 7], "values": ["NaN", 0.5, 0.25]}
    ],
}
EXPERIMENT = {"experiment_id": 7, "name": "from-mlflow", "creation_time": 1, "last_update_time": 2}


def test_a_run_lands_with_its_own_id_times_and_points_and_again_duplicates_nothing(
    sqlite_app: Flask,
) -> None:
    http = sqlite_app.test_client()
    assert http.post(f"{BASE}/experiments", json=EXPERIMENT).status_code == 200
    first = http.post(f"{BASE}/runs", json={"runs": [RUN]})
    again = http.post(f"{BASE}/runs", json={"runs": [RUN]})
    summary = http.post(f"{BASE}/runs/summaries", json={"run_ids": [RUN["run_id"], "absent"]})
    held = http.post(f"{BASE}/runs/held", json={"run_id": RUN["run_id"]}).get_json()["run"]
    got = http.get("/api/2.0/mlflow/runs/get", query_string={"run_id": RUN["run_id"]}).get_json()

    assert first.get_json() == {"written": 1} and again.status_code == 200
    assert list(summary.get_json()["summaries"]) == [RUN["run_id"]]
    assert summary.get_json()["summaries"][RUN["run_id"]]["points"] == 3
    assert held["metrics"] == [{**RUN["metrics"][0]}]  # NaN stays the string "NaN"
    assert got["run"]["info"]["start_time"] == RUN["start_time"]
    assert got["run"]["info"]["experiment_id"] == "7"
    assert math.isclose(got["run"]["data"]["metrics"][0]["value"], 0.25)


def test_a_malformed_run_is_refused_and_nothing_of_its_group_is_written(
    sqlite_app: Flask,
) -> None:
    http = sqlite_app.test_client()
    http.post(f"{BASE}/experiments", json=EXPERIMENT)
    ragged = {**RUN, "run_id": "b" * 32, "metrics": [{**RUN["metrics"][0], "steps": [0, 1]}]}

    refused = http.post(f"{BASE}/runs", json={"runs": [RUN, ragged]})
    summary = http.post(f"{BASE}/runs/summaries", json={"run_ids": [RUN["run_id"]]})

    assert refused.status_code == 400
    assert refused.get_json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert summary.get_json()["summaries"] == {}


def test_a_run_or_version_whose_parent_is_not_imported_is_a_400_and_nothing_lands(
    sqlite_app: Flask,
) -> None:
    http = sqlite_app.test_client()
    orphan_run = http.post(f"{BASE}/runs", json={"runs": [RUN]})
    summary = http.post(f"{BASE}/runs/summaries", json={"run_ids": [RUN["run_id"]]})
    orphan_version = http.post(
        f"{BASE}/model-versions",
        json={
            "name": "never-imported",
            "version": 1,
            "source": "runs:/abc/model",
            "creation_timestamp": 1,
            "last_updated_timestamp": 2,
        },
    )

    assert orphan_run.status_code == 400
    assert "import experiments before their runs" in orphan_run.get_json()["message"]
    assert summary.get_json()["summaries"] == {}
    assert orphan_version.status_code == 400, orphan_version.get_json()
    assert "registered models before their versions" in orphan_version.get_json()["message"]
