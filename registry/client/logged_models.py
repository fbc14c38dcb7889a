"""MLflow 3 logged models: create, finalize, search and tag them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from registry.client.base import ClientBase
from registry.entities import LoggedModel, PagedList


def _kv(d: dict[str, Any] | None) -> list[dict[str, str]]:
    return [{"key": k, "value": str(v)} for k, v in (d or {}).items()]


class LoggedModelsMixin(ClientBase):
    """Logged models (``/logged-models``)."""

    def create_logged_model(
        self,
        experiment_id: str,
        name: str | None = None,
        source_run_id: str | None = None,
        tags: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
        model_type: str | None = None,
    ) -> LoggedModel:
        """Create a logged model in PENDING state; upload its files to ``artifact_uri``."""
        body = {
            "experiment_id": str(experiment_id),
            "name": name,
            "source_run_id": source_run_id,
            "model_type": model_type,
            "params": _kv(params),
            "tags": _kv(tags),
        }
        reply = self._call("POST", "logged-models", {k: v for k, v in body.items() if v})
        return LoggedModel.from_dict(reply["model"])

    def get_logged_model(self, model_id: str) -> LoggedModel:
        """The logged model with this id.

        Raises:
            NotFound: no such logged model.
        """
        return LoggedModel.from_dict(self._call("GET", f"logged-models/{model_id}")["model"])

    def finalize_logged_model(
        self, model_id: str, status: str = "LOGGED_MODEL_READY"
    ) -> LoggedModel:
        """Mark a logged model READY (or UPLOAD_FAILED) once its files are uploaded."""
        body = {"model_id": model_id, "status": status}
        return LoggedModel.from_dict(
            self._call("PATCH", f"logged-models/{model_id}", body)["model"]
        )

    def delete_logged_model(self, model_id: str) -> None:
        """Delete a logged model."""
        self._call("DELETE", f"logged-models/{model_id}")

    def set_logged_model_tags(self, model_id: str, tags: dict[str, Any]) -> None:
        """Set tags on a logged model."""
        self._call("PATCH", f"logged-models/{model_id}/tags", {"tags": _kv(tags)})

    def delete_logged_model_tag(self, model_id: str, key: str) -> None:
        """Remove a tag from a logged model."""
        self._call("DELETE", f"logged-models/{model_id}/tags/{key}")

    def log_model_params(self, model_id: str, params: dict[str, Any]) -> None:
        """Add params to a logged model."""
        body = {"model_id": model_id, "params": _kv(params)}
        self._call("POST", f"logged-models/{model_id}/params", body)

    def search_logged_models(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        max_results: int | None = None,
        order_by: Sequence[dict[str, Any]] | None = None,
        page_token: str | None = None,
    ) -> PagedList[LoggedModel]:
        """One page of logged models in these experiments matching ``filter_string``."""
        body = {
            "experiment_ids": [str(i) for i in experiment_ids],
            "filter": filter_string,
            "max_results": max_results,
            "order_by": list(order_by) if order_by else None,
            "page_token": page_token,
        }
        return self._page("POST", "logged-models/search", body, "models", LoggedModel.from_dict)
