"""The chart grid charts the runs table's runs, in the table's order, on every engine."""

from __future__ import annotations

import json
import re

from flask.testing import FlaskClient

from registry.store.metrics import MetricPoint
from registry.store.run_data import log_batch
from registry.store.run_tables import table_page
from tests.factories import make_experiment, make_run


def _grid_runs(client: FlaskClient, experiment_id: int, query: dict[str, str]) -> list[str]:
    page = client.get(f"/experiments/{experiment_id}/charts", query_string=query)
    assert page.status_code == 200
    found = re.search(
        r'<script id="grid-data" type="application/json">(.*?)</script>',
        page.get_data(as_text=True),
        re.S,
    )
    assert found
    runs: list[str] = json.loads(found.group(1))["runs"]
    return runs


def test_a_metric_sort_orders_the_grid_as_the_table(client: FlaskClient) -> None:
    experiment = make_experiment()
    scored = [make_run(experiment, run_name=f"r{i}") for i in range(5)]
    for run, score in zip(scored, [0.3, 0.9, 0.1, 0.9, 0.5], strict=True):
        log_batch(run.run_uuid, metrics=[MetricPoint("acc", score, 1, 0)])
    bare = make_run(experiment, run_name="bare")  # no "acc": last, in either direction
    log_batch(bare.run_uuid, metrics=[MetricPoint("loss", 1.0, 1, 0)])
    silent = make_run(experiment, run_name="silent")  # no metric at all: no line, not listed
    order = {"sort": "metrics.acc", "dir": "desc", "cols": "metrics.acc"}

    runs = _grid_runs(client, experiment.experiment_id, order)

    table = table_page(
        experiment.experiment_id, "", ["metrics.`acc` DESC"], deleted=False, page=1, per_page=50
    )
    assert runs == [run.run_uuid for run in table if run.run_uuid != silent.run_uuid]
    assert runs[-1] == bare.run_uuid
    assert runs[0] in {scored[1].run_uuid, scored[3].run_uuid}
    asc = _grid_runs(client, experiment.experiment_id, {**order, "dir": "asc"})
    assert asc[0] == scored[2].run_uuid and asc[-1] == bare.run_uuid
