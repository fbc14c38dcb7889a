"""``register_model``: a model URI becomes the next version of a registered model."""

from __future__ import annotations

import json
import logging
from typing import Any

from registry.client.client import Client
from registry.client.model_uris import resolve_model_uri
from registry.entities import ModelVersion
from registry.errors import AlreadyExists

logger = logging.getLogger(__name__)


def register_model(
    client: Client, model_uri: str, name: str, tags: dict[str, Any] | None = None
) -> ModelVersion:
    """Register ``model_uri`` under ``name`` (creating the model if needed).

    A logged model (``runs:/<run>/<name>`` or ``models:/m-<id>``) is registered with source
    ``models:/<model_id>``, as MLflow 3 does; other URIs keep their artifact location.

    Raises:
        NotFound: the URI names nothing.
        InvalidParameter: the URI is malformed.
    """
    resolved = resolve_model_uri(model_uri, client)
    try:
        client.create_registered_model(name)
    except AlreadyExists:
        logger.debug("registered model %s exists; adding a version", name)
    if resolved.model_id:
        source = f"models:/{resolved.model_id}"
    elif model_uri.startswith("models:/") or resolved.artifact_uri.startswith("mlflow-artifacts:"):
        source = resolved.artifact_uri
    else:
        source = model_uri
    version = client.create_model_version(
        name, source, run_id=resolved.run_id, tags=tags, model_id=resolved.model_id
    )
    if resolved.model_id:
        _tag_logged_model(client, resolved.model_id, version)
    return version


def _tag_logged_model(client: Client, model_id: str, version: ModelVersion) -> None:
    model = client.get_logged_model(model_id)
    try:
        entries = json.loads(model.tags.get("mlflow.modelVersions", "[]"))
    except ValueError:
        entries = []
    entry = {"name": version.name, "version": version.version}
    if not any(
        str(e.get("version")) == version.version and e.get("name") == version.name for e in entries
    ):
        entries.append(entry)
        client.set_logged_model_tags(model_id, {"mlflow.modelVersions": json.dumps(entries)})
