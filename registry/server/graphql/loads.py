"""What one GraphQL request has read, so a run's nested fields cost no query per run.

A document may ask each of up to 10 aliased root fields for hundreds of runs, and each run for
its ``experiment`` and several aliased ``modelVersions``: read one by one, that is a query per
run per alias. Here the experiments are read once per request, and the model versions of every
run a root field answered in one search, the first time any of them is asked for.
"""

from __future__ import annotations

from typing import Any

from registry.services.listings import describe_versions
from registry.store import experiments
from registry.store.api_reads import experiment_row_json
from registry.store.registry_search import VERSIONS_LIMIT, search_model_versions

JSON = dict[str, Any]


class RequestReads:
    """The experiments and model versions one request has read (its GraphQL context)."""

    def __init__(self) -> None:
        self._experiments: dict[str, JSON] = {}
        self._runs: dict[str, None] = {}  # every run a root field answered, in order
        self._versions: dict[str, list[JSON]] = {}

    def saw(self, body: JSON) -> None:
        """Remember the runs in a root field's answer (``runs`` or ``run``)."""
        runs = body.get("runs") or ([body["run"]] if body.get("run") else [])
        for run in runs:
            self._runs[str(run["info"]["run_id"])] = None

    def experiment(self, experiment_id: str) -> JSON:
        """An experiment's REST body, read once per request.

        Raises:
            NotFound: no such experiment.
        """
        if experiment_id not in self._experiments:
            found = experiments.get_experiment(experiment_id)
            self._experiments[experiment_id] = experiment_row_json(found)
        return self._experiments[experiment_id]

    def versions_of(self, run_id: str) -> list[JSON]:
        """The versions registered from ``run_id`` (of models the caller may read)."""
        if run_id not in self._versions:
            batch = [r for r in {run_id: None, **self._runs} if r not in self._versions]
            self._versions.update(_versions_by_run(batch))
        return self._versions[run_id]


def _versions_by_run(run_ids: list[str]) -> dict[str, list[JSON]]:
    found: dict[str, list[JSON]] = {run_id: [] for run_id in run_ids}
    quoted = ", ".join("'" + run_id.replace("'", "''") + "'" for run_id in run_ids)
    token = ""
    while True:
        rows, token_or_none = search_model_versions(
            f"run_id IN ({quoted})", [], VERSIONS_LIMIT, token
        )
        for version in describe_versions(rows):
            found[str(version["run_id"])].append(version)
        if token_or_none is None:
            return found
        token = token_or_none
