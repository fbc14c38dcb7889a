"""MlflowClient's registered-model and model-version methods."""

from __future__ import annotations

from typing import Any

from registry.client.base import ClientBase
from registry.client.transport import OURS
from registry.entities import ModelVersion, PagedList, RegisteredModel


def _kv(d: dict[str, Any] | None) -> list[dict[str, str]]:
    return [{"key": k, "value": str(v)} for k, v in (d or {}).items()]


def _clean(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if v is not None}


class ModelRegistryMixin(ClientBase):
    """Registered models, versions, stages, aliases and tags."""

    def create_registered_model(
        self, name: str, tags: dict[str, Any] | None = None, description: str | None = None
    ) -> RegisteredModel:
        """Create a registered model.

        Raises:
            AlreadyExists: a model has that name.
        """
        body = _clean({"name": name, "tags": _kv(tags), "description": description})
        return RegisteredModel.from_dict(
            self._call("POST", "registered-models/create", body)["registered_model"]
        )

    def get_registered_model(self, name: str) -> RegisteredModel:
        """The registered model with this name.

        Raises:
            NotFound: no such model.
        """
        reply = self._call("GET", "registered-models/get", {"name": name})
        return RegisteredModel.from_dict(reply["registered_model"])

    def rename_registered_model(self, name: str, new_name: str) -> RegisteredModel:
        """Rename a registered model."""
        reply = self._call("POST", "registered-models/rename", {"name": name, "new_name": new_name})
        return RegisteredModel.from_dict(reply["registered_model"])

    def update_registered_model(self, name: str, description: str | None = None) -> RegisteredModel:
        """Change a registered model's description."""
        body = _clean({"name": name, "description": description})
        reply = self._call("PATCH", "registered-models/update", body)
        return RegisteredModel.from_dict(reply["registered_model"])

    def delete_registered_model(self, name: str) -> None:
        """Delete a registered model and all its versions."""
        self._call("DELETE", "registered-models/delete", {"name": name})

    def search_registered_models(
        self,
        filter_string: str | None = None,
        max_results: int = 100,
        order_by: list[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[RegisteredModel]:
        """One page of registered models matching ``filter_string``."""
        body = {
            "filter": filter_string or None,
            "max_results": max_results,
            "order_by": order_by,
            "page_token": page_token,
        }
        return self._page(
            "GET", "registered-models/search", body, "registered_models", RegisteredModel.from_dict
        )

    def get_latest_versions(self, name: str, stages: list[str] | None = None) -> list[ModelVersion]:
        """The newest version in each of ``stages`` (every stage when None)."""
        body = _clean({"name": name, "stages": stages})
        reply = self._call("POST", "registered-models/get-latest-versions", body)
        return [ModelVersion.from_dict(v) for v in reply.get("model_versions") or []]

    def set_registered_model_tag(self, name: str, key: str, value: Any) -> None:
        """Set a tag on a registered model."""
        body = {"name": name, "key": key, "value": str(value)}
        self._call("POST", "registered-models/set-tag", body)

    def delete_registered_model_tag(self, name: str, key: str) -> None:
        """Remove a tag from a registered model."""
        self._call("DELETE", "registered-models/delete-tag", {"name": name, "key": key})

    def set_registered_model_alias(self, name: str, alias: str, version: str | int) -> None:
        """Point ``alias`` at a version (moving it if it exists)."""
        body = {"name": name, "alias": alias, "version": str(version)}
        self._call("POST", "registered-models/alias", body)

    def delete_registered_model_alias(self, name: str, alias: str) -> None:
        """Remove an alias."""
        self._call("DELETE", "registered-models/alias", {"name": name, "alias": alias})

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        """The version an alias points at.

        Raises:
            InvalidParameter: no such alias (MLflow answers 400 here).
        """
        reply = self._call("GET", "registered-models/alias", {"name": name, "alias": alias})
        return ModelVersion.from_dict(reply["model_version"])

    def create_model_version(
        self,
        name: str,
        source: str,
        run_id: str | None = None,
        tags: dict[str, Any] | None = None,
        run_link: str | None = None,
        description: str | None = None,
        model_id: str | None = None,
    ) -> ModelVersion:
        """Register ``source`` as the next version of ``name``."""
        body = _clean(
            {
                "name": name,
                "source": source,
                "run_id": run_id,
                "tags": _kv(tags),
                "run_link": run_link,
                "description": description,
                "model_id": model_id,
            }
        )
        return ModelVersion.from_dict(
            self._call("POST", "model-versions/create", body)["model_version"]
        )

    def get_model_version(self, name: str, version: str | int) -> ModelVersion:
        """One version of a registered model.

        Raises:
            NotFound: no such version.
        """
        reply = self._call("GET", "model-versions/get", {"name": name, "version": str(version)})
        return ModelVersion.from_dict(reply["model_version"])

    def update_model_version(
        self, name: str, version: str | int, description: str | None = None
    ) -> ModelVersion:
        """Change a version's description."""
        body = _clean({"name": name, "version": str(version), "description": description})
        return ModelVersion.from_dict(
            self._call("PATCH", "model-versions/update", body)["model_version"]
        )

    def delete_model_version(self, name: str, version: str | int) -> None:
        """Delete a version (its aliases go with it)."""
        self._call("DELETE", "model-versions/delete", {"name": name, "version": str(version)})

    def transition_model_version_stage(
        self, name: str, version: str | int, stage: str, archive_existing_versions: bool = False
    ) -> ModelVersion:
        """Move a version to None, Staging, Production or Archived.

        Raises:
            InvalidParameter: an unknown stage.
        """
        body = {
            "name": name,
            "version": str(version),
            "stage": stage,
            "archive_existing_versions": archive_existing_versions,
        }
        return ModelVersion.from_dict(
            self._call("POST", "model-versions/transition-stage", body)["model_version"]
        )

    def search_model_versions(
        self,
        filter_string: str | None = None,
        max_results: int = 10000,
        order_by: list[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[ModelVersion]:
        """One page of model versions matching ``filter_string``."""
        body = {
            "filter": filter_string or None,
            "max_results": max_results,
            "order_by": order_by,
            "page_token": page_token,
        }
        return self._page(
            "GET", "model-versions/search", body, "model_versions", ModelVersion.from_dict
        )

    def get_model_version_download_uri(self, name: str, version: str | int) -> str:
        """Where a version's files are (an artifact URI, or a ``runs:/`` source)."""
        body = {"name": name, "version": str(version)}
        return str(self._call("GET", "model-versions/get-download-uri", body)["artifact_uri"])

    def get_model_version_digest(self, name: str, version: str | int) -> str | None:
        """Ours: the digest the server recorded for a version's files (None when it has none).

        Raises:
            NotFound: no such version.
        """
        body = {"name": name, "version": str(version)}
        reply = self._call("GET", "model-versions/get-digest", body, prefix=OURS)
        digest = reply.get("model_digest")
        return str(digest) if digest else None

    def set_model_version_tag(self, name: str, version: str | int, key: str, value: Any) -> None:
        """Set a tag on a version."""
        body = {"name": name, "version": str(version), "key": key, "value": str(value)}
        self._call("POST", "model-versions/set-tag", body)

    def delete_model_version_tag(self, name: str, version: str | int, key: str) -> None:
        """Remove a tag from a version."""
        body = {"name": name, "version": str(version), "key": key}
        self._call("DELETE", "model-versions/delete-tag", body)
