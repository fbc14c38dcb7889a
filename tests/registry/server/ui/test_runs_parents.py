"""A sweep's parent that falls on another page of the runs table is shown above its children."""

from __future__ import annotations

import re

from flask.testing import FlaskClient

from registry.store.run_data import log_batch
from tests.factories import make_experiment, make_run

CHILDREN = 60  # more than a page of 50: the parent, started first, sorts onto page 2


def _rows(client: FlaskClient, experiment_id: int, query: dict[str, str]) -> list[tuple[str, int]]:
    """The table's rows as (run id, depth), in page order."""
    page = client.get(f"/experiments/{experiment_id}", query_string=query)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    return [
        (run, int(depth))
        for depth, run in re.findall(
            r'<tr class="depth-\d[^"]*" data-depth="(\d)" data-run="(\w+)"', html
        )
    ]


def test_a_parent_on_another_page_is_pulled_above_its_children(client: FlaskClient) -> None:
    experiment = make_experiment()
    parent = make_run(experiment, run_name="sweep", start_time=1_000)
    log_batch(parent.run_uuid, params=[("kind", "sweep")])
    for n in range(CHILDREN):
        child = make_run(experiment, run_name=f"trial-{n}", start_time=2_000 + n)
        log_batch(
            child.run_uuid,
            params=[("kind", "trial"), ("lr", str(n % 3))],
            tags=[("mlflow.parentRunId", parent.run_uuid)],
        )

    first = _rows(client, experiment.experiment_id, {})

    assert first[0] == (parent.run_uuid, 0)  # pulled in from page 2, before its children
    assert {depth for _, depth in first[1:]} == {1}  # the page's 50 trials, folded under it

    # A filter the parent matches still pulls it in; one it does not match leaves the
    # children at the top level, each naming the parent.
    matching = _rows(client, experiment.experiment_id, {"filter": "params.kind != 'none'"})
    assert matching[0] == (parent.run_uuid, 0)
    trials = _rows(client, experiment.experiment_id, {"filter": "params.kind = 'trial'"})
    assert parent.run_uuid not in {run for run, _ in trials}
    assert {depth for _, depth in trials} == {0}
