"""The import endpoints on the real app (SQLite): ids and times kept, writes repeatable, bad
bodies refused with a JSON error and nothing written."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from marshmallow import Schema

from registry.client.transport import Transport
from registry.config import Config
from registry.importers.http_target import DIGEST_BATCH, ServerTarget
from registry.store.imports import records
from registry.wire import imports as wire
from tests.conftest import _close_database

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


VERSION = {
    "name": "held-model",
    "version": 1,
    "source": "mlflow-artifacts:/0/models/m/artifacts",
    "creation_timestamp": 1,
    "last_updated_timestamp": 2,
}
MODEL = {"name": "held-model", "creation_timestamp": 1, "last_updated_timestamp": 2}


def _held_experiments(http: FlaskClient) -> dict[str, str]:
    answer = http.post(f"{BASE}/experiments/held", json={}).get_json()
    return {str(e["experiment_id"]): e["artifact_location"] for e in answer["experiments"]}


@pytest.mark.parametrize("location", ["s3://evil-bucket/x", "/etc/x", "file:///tmp/x"])
def test_an_artifact_location_the_regular_api_refuses_is_refused_on_import_too(
    sqlite_app: Flask, location: str
) -> None:
    http = sqlite_app.test_client()
    before = _held_experiments(http)
    default = http.post(
        f"{BASE}/experiments",
        json={**EXPERIMENT, "experiment_id": 0, "name": "Default", "artifact_location": location},
    )
    created = http.post(
        "/api/2.0/mlflow/experiments/create", json={"name": "n", "artifact_location": location}
    )
    http.post(f"{BASE}/experiments", json=EXPERIMENT)
    run = http.post(f"{BASE}/runs", json={"runs": [{**RUN, "artifact_uri": f"{location}/r"}]})
    logged = http.post(
        f"{BASE}/logged-models",
        json={
            "model_id": "m-" + "1" * 32,
            "experiment_id": 7,
            "name": "m",
            "artifact_uri": location,
            "creation_timestamp_ms": 1,
            "last_updated_timestamp_ms": 2,
        },
    )
    http.post(f"{BASE}/registered-models", json=MODEL)
    version = http.post(f"{BASE}/model-versions", json={**VERSION, "source": location})
    versions = http.post(f"{BASE}/model-versions/held", json={"name": MODEL["name"]})

    assert created.status_code == 400
    for refused in (default, run, logged, version):
        assert refused.status_code == 400, refused.get_json()
        assert refused.get_json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert _held_experiments(http)["0"] == before["0"]
    assert http.post(f"{BASE}/runs/held", json={"run_id": RUN["run_id"]}).get_json()["run"] is None
    assert versions.get_json()["model_versions"] == []


def test_with_an_allowed_prefix_kept_locations_and_proxy_uris_are_imported(
    sqlite_url: str, artifact_root: Path
) -> None:
    from registry.server.app import create_app

    config = Config(
        database_url=sqlite_url,
        artifact_root=str(artifact_root),
        allowed_artifact_locations="s3://kept-bucket/mlflow",
    )
    app = create_app(config)
    http = app.test_client()
    try:
        experiment = {**EXPERIMENT, "artifact_location": "s3://kept-bucket/mlflow/7"}
        landed = http.post(f"{BASE}/experiments", json=experiment)
        run = {**RUN, "artifact_uri": f"s3://kept-bucket/mlflow/7/{RUN['run_id']}/artifacts"}
        run_landed = http.post(f"{BASE}/runs", json={"runs": [run]})
        elsewhere = http.post(
            f"{BASE}/experiments", json={**experiment, "artifact_location": "s3://kept-bucket/x"}
        )
        http.post(f"{BASE}/registered-models", json=MODEL)
        proxied = http.post(f"{BASE}/model-versions", json=VERSION)
        by_run = http.post(
            f"{BASE}/model-versions",
            json={**VERSION, "version": 2, "source": f"runs:/{RUN['run_id']}/model"},
        )

        assert landed.status_code == 200 and run_landed.status_code == 200
        assert elsewhere.status_code == 400
        assert proxied.status_code == 200 and by_run.status_code == 200, by_run.get_json()
        assert _held_experiments(http)["7"] == "s3://kept-bucket/mlflow/7"
    finally:
        _close_database(app.extensions["registry"].database)


@pytest.mark.parametrize(
    ("endpoint", "body"),
    [
        ("experiments", {**EXPERIMENT, "experiment_id": 2**70}),
        ("experiments", {**EXPERIMENT, "creation_time": 2**63}),
        ("experiments", {**EXPERIMENT, "name": "n" * 257}),
        ("experiments", {**EXPERIMENT, "lifecycle_stage": "gone"}),
        ("experiments", {**EXPERIMENT, "tags": {"k" * 251: "v"}}),
        ("runs", {"runs": [{**RUN, "experiment_id": 2**70}]}),
        ("runs", {"runs": [{**RUN, "start_time": -(2**63) - 1}]}),
        ("runs", {"runs": [{**RUN, "run_id": "a" * 33}]}),
        ("runs", {"runs": [{**RUN, "run_id": "../" + "a" * 20}]}),
        ("runs", {"runs": [{**RUN, "name": "n" * 251}]}),
        ("runs", {"runs": [{**RUN, "status": "BOGUS"}]}),
        ("runs", {"runs": [{**RUN, "lifecycle_stage": "gone"}]}),
        ("runs", {"runs": [{**RUN, "params": {"k" * 251: "v"}}]}),
        ("runs", {"runs": [{**RUN, "metrics": [{**RUN["metrics"][0], "steps": [0, 1, 2**64]}]}]}),
        ("runs", {"runs": [{**RUN, "metrics": [{**RUN["metrics"][0], "steps": [0, 1, 2**63]}]}]}),
        ("runs", {"runs": [{**RUN, "metrics": [{**RUN["metrics"][0], "key": "k" * 251}]}]}),
        ("model-versions", {**VERSION, "version": 2**40}),
        ("model-versions", {**VERSION, "current_stage": "Prod"}),
        ("model-versions", {**VERSION, "status": "DONE"}),
        ("model-versions", {**VERSION, "run_id": "r" * 33}),
        ("registered-models", {**MODEL, "name": "n" * 257}),
        ("registered-models", {**MODEL, "creation_timestamp": 2**64}),
        ("aliases", {"name": MODEL["name"], "aliases": {"prod": 2**40}, "timestamp": 3}),
    ],
)
def test_out_of_range_numbers_long_strings_and_unknown_values_are_a_400_and_nothing_lands(
    sqlite_app: Flask, endpoint: str, body: dict[str, Any]
) -> None:
    http = sqlite_app.test_client()
    http.post(f"{BASE}/experiments", json=EXPERIMENT)
    http.post(f"{BASE}/registered-models", json=MODEL)
    before = http.post(f"{BASE}/experiments/held", json={}).get_json()

    refused = http.post(f"{BASE}/{endpoint}", json=body)

    assert refused.status_code == 400, refused.get_data(as_text=True)
    assert refused.get_json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert http.post(f"{BASE}/experiments/held", json={}).get_json() == before
    assert http.post(f"{BASE}/runs/held", json={"run_id": RUN["run_id"]}).get_json()["run"] is None
    held = http.post(f"{BASE}/model-versions/held", json={"name": MODEL["name"]}).get_json()
    assert held["model_versions"] == []


def test_an_alias_to_a_version_not_imported_is_a_400_and_the_aliases_stay(
    sqlite_app: Flask,
) -> None:
    http = sqlite_app.test_client()
    http.post(f"{BASE}/registered-models", json=MODEL)
    http.post(f"{BASE}/model-versions", json=VERSION)
    kept = http.post(
        f"{BASE}/aliases", json={"name": MODEL["name"], "aliases": {"prod": 1}, "timestamp": 3}
    )
    dangling = http.post(
        f"{BASE}/aliases",
        json={"name": MODEL["name"], "aliases": {"prod": 1, "next": 2}, "timestamp": 4},
    )
    held = http.post(f"{BASE}/registered-models/held", json={"names": [MODEL["name"]]})

    assert kept.status_code == 200
    assert dangling.status_code == 400
    assert "version(s) 2 not imported here" in dangling.get_json()["message"]
    assert held.get_json()["registered_models"][0]["aliases"] == {"prod": 1}


def test_a_write_that_conflicts_with_a_held_row_is_not_called_an_orphan(
    sqlite_app: Flask,
) -> None:
    http = sqlite_app.test_client()
    orphan = http.post(f"{BASE}/runs", json={"runs": [RUN]})

    message = orphan.get_json()["message"]
    assert "import experiments before their runs" in message
    assert "conflicts with a row held here" in message


def test_digests_are_asked_for_a_few_models_a_request(sqlite_url: str) -> None:
    transport = _Recording(Transport(sqlite_url))
    target = ServerTarget("embedded", transport)
    http_names = [f"absent-{i}" for i in range(24)]
    target.import_registered_model(
        records.registered_model(_loaded(wire.RegisteredModelSchema(), MODEL))
    )
    target.import_model_version(records.model_version(_loaded(wire.ModelVersionSchema(), VERSION)))
    try:
        missing = target.record_digests([*http_names, MODEL["name"]])
    finally:
        target.close()

    sent = [body["names"] for endpoint, body in transport.calls if endpoint == "imports/digests"]
    assert missing == [(MODEL["name"], 1)]
    assert len(sent) == 3 and all(len(names) <= DIGEST_BATCH for names in sent)
    assert sorted(n for names in sent for n in names) == sorted([*http_names, MODEL["name"]])


def _loaded(schema: Schema, body: dict[str, Any]) -> dict[str, Any]:
    loaded: dict[str, Any] = schema.load(body)
    return loaded


class _Recording:
    """The real transport, with each request's endpoint and body noted."""

    def __init__(self, inner: Transport) -> None:
        self.inner = inner
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def call(self, method: str, endpoint: str, body: Any = None, **kwargs: Any) -> Any:
        self.calls.append((endpoint, body or {}))
        return self.inner.call(method, endpoint, body, **kwargs)

    def close(self) -> None:
        self.inner.close()


def test_an_experiment_id_beyond_the_id_column_is_a_400_on_every_engine(app: Flask) -> None:
    http = app.test_client()
    big = 2**40  # an int64, but PostgreSQL's and MySQL's experiment ids are 32-bit
    answer = http.post(f"{BASE}/experiments", json={**EXPERIMENT, "experiment_id": big})
    run = {**RUN, "experiment_id": big}
    runs = http.post(f"{BASE}/runs", json={"runs": [run]})
    held = _held_experiments(http)

    assert answer.status_code in (200, 400), answer.get_data(as_text=True)
    assert runs.status_code in (200, 400), runs.get_data(as_text=True)
    assert (str(big) in held) == (answer.status_code == 200)
    if answer.status_code == 400:
        assert "does not fit" in answer.get_json()["message"]
