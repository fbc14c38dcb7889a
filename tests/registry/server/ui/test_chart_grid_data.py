"""The chart grid's per-metric JSON: the table's runs, one metric, downsampled, on every engine."""

from __future__ import annotations

import math

from flask.testing import FlaskClient

from registry.store.metrics import MetricPoint
from registry.store.run_data import log_batch
from tests.factories import make_experiment, make_run


def test_a_chart_gets_its_metric_for_the_filtered_runs_only(client: FlaskClient) -> None:
    experiment = make_experiment()
    adam, sgd, bare = (make_run(experiment, params={"opt": o}) for o in ("adam", "sgd", "adam"))
    for run in (adam, sgd):
        points = [MetricPoint("loss", 1 / (s + 1) + 1e-9, 1000 + s, s) for s in range(1000)]
        log_batch(run.run_uuid, metrics=points)
    log_batch(bare.run_uuid, metrics=[MetricPoint("acc", 0.5, 7, 0)])
    url = f"/experiments/{experiment.experiment_id}/charts/data"

    body = client.get(url, query_string={"key": "loss", "points": "100"}).json
    assert body["key"] == "loss"
    assert set(body["series"]) == {adam.run_uuid, sgd.run_uuid}  # no line for a run without it
    line = body["series"][adam.run_uuid]
    assert set(line) == {"step", "value"}  # no timestamps unless asked
    assert len(line["value"]) <= 100 and line["step"][0] == 0 and line["step"][-1] == 999
    assert max(line["value"]) == 1.0  # 1.000000001, rounded to 6 significant digits
    assert all(v == float(f"{v:.6g}") for v in line["value"])

    query = {"key": "loss", "time": "1", "filter": "params.opt = 'adam'"}
    body = client.get(url, query_string=query).json
    assert list(body["series"]) == [adam.run_uuid]
    timed = body["series"][adam.run_uuid]
    assert len(timed["time"]) == len(timed["step"]) and timed["time"][0] == 1000


def test_a_nan_is_a_gap_and_bad_queries_are_json_errors(client: FlaskClient) -> None:
    experiment = make_experiment()
    run = make_run(experiment)
    values = [0.2, math.nan, 0.4]
    log_batch(run.run_uuid, metrics=[MetricPoint("f1", v, 5, s) for s, v in enumerate(values)])
    url = f"/experiments/{experiment.experiment_id}/charts/data"

    series = client.get(url, query_string={"key": "f1"}).json["series"]
    assert series[run.run_uuid]["value"] == [0.2, None, 0.4]
    assert client.get(url, query_string={"key": "absent"}).json["series"] == {}

    for query in ({}, {"key": "f1", "points": "5"}, {"key": "f1", "points": "x"}):
        response = client.get(url, query_string=query)
        assert response.status_code == 400, query
        assert response.json["error_code"] == "INVALID_PARAMETER_VALUE"
    response = client.get(url, query_string={"key": "f1", "filter": "params.x ==="})
    assert response.status_code == 400 and response.json["message"]
    missing = client.get("/experiments/987654/charts/data", query_string={"key": "f1"})
    assert missing.status_code == 404 and missing.json["error_code"] == "RESOURCE_DOES_NOT_EXIST"
