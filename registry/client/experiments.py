"""MlflowClient's experiment methods."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from registry.client.base import ClientBase
from registry.entities import Experiment, PagedList, ViewType
from registry.errors import NotFound


class ExperimentsMixin(ClientBase):
    """Create, read, search, rename, delete and tag experiments."""

    def create_experiment(
        self,
        name: str,
        artifact_location: str | None = None,
        tags: dict[str, Any] | None = None,
    ) -> str:
        """Create an experiment and return its id.

        Raises:
            AlreadyExists: an experiment has that name.
        """
        body: dict[str, Any] = {"name": name, "artifact_location": artifact_location}
        if tags:
            body["tags"] = [{"key": k, "value": str(v)} for k, v in tags.items()]
        reply = self._call("POST", "experiments/create", {k: v for k, v in body.items() if v})
        return str(reply["experiment_id"])

    def get_experiment(self, experiment_id: str) -> Experiment:
        """The experiment with this id.

        Raises:
            NotFound: no such experiment.
        """
        reply = self._call("GET", "experiments/get", {"experiment_id": str(experiment_id)})
        return Experiment.from_dict(reply["experiment"])

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        """The experiment with this name (deleted ones included), or None."""
        try:
            reply = self._call("GET", "experiments/get-by-name", {"experiment_name": name})
        except NotFound:
            return None
        return Experiment.from_dict(reply["experiment"])

    def search_experiments(
        self,
        view_type: ViewType | int = ViewType.ACTIVE_ONLY,
        max_results: int | None = 1000,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[Experiment]:
        """One page of experiments matching ``filter_string``."""
        body = {
            "view_type": ViewType.to_wire(view_type),
            "max_results": max_results,
            "filter": filter_string or None,
            "order_by": list(order_by) if order_by else None,
            "page_token": page_token,
        }
        return self._page("POST", "experiments/search", body, "experiments", Experiment.from_dict)

    def delete_experiment(self, experiment_id: str) -> None:
        """Soft-delete an experiment (restore_experiment undoes it)."""
        self._call("POST", "experiments/delete", {"experiment_id": str(experiment_id)})

    def restore_experiment(self, experiment_id: str) -> None:
        """Restore a deleted experiment."""
        self._call("POST", "experiments/restore", {"experiment_id": str(experiment_id)})

    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        """Rename an experiment."""
        body = {"experiment_id": str(experiment_id), "new_name": new_name}
        self._call("POST", "experiments/update", body)

    def set_experiment_tag(self, experiment_id: str, key: str, value: Any) -> None:
        """Set a tag on an experiment."""
        body = {"experiment_id": str(experiment_id), "key": key, "value": str(value)}
        self._call("POST", "experiments/set-experiment-tag", body)

    def delete_experiment_tag(self, experiment_id: str, key: str) -> None:
        """Remove a tag from an experiment."""
        body = {"experiment_id": str(experiment_id), "key": key}
        self._call("POST", "experiments/delete-experiment-tag", body)
