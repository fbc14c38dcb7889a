"""The MLflow 3 logged-model flow: create the model, write and upload its files, mark it READY.

Files go to ``<experiment>/models/<model_id>/artifacts`` and the run lists the model among its
outputs, so ``runs:/<run>/<name>`` resolves both for this client and for MLflow's own. When
saving or uploading fails, the half-made logged model is deleted again.
"""

from __future__ import annotations

import dataclasses
import logging
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from registry.client.client import Client
from registry.client.registration import register_model
from registry.client.run_context import system_tags
from registry.entities import ModelInfo, Run

logger = logging.getLogger(__name__)

SaveFn = Callable[[Path, str, str | None], None]
"""Writes a model directory: ``save(path, model_id, run_id)``."""


def log_model_files(
    client: Client,
    experiment_id: str,
    run: Run | None,
    name: str,
    save: SaveFn,
    *,
    flavors: tuple[str, ...] = (),
    registered_model_name: str | None = None,
    params: dict[str, Any] | None = None,
    model_type: str | None = None,
    step: int = 0,
) -> ModelInfo:
    """Log one model directory as a logged model of ``run`` and return its ModelInfo.

    Raises:
        InvalidParameter: ``save`` rejected the model (nothing is left in the store).
        RegistryError: the server refused a step (the logged model is deleted again).
    """
    run_id = run.info.run_id if run else None
    all_params = {**(run.data.params if run else {}), **(params or {})}
    model = client.create_logged_model(
        experiment_id, name, run_id, tags=system_tags(), params=all_params, model_type=model_type
    )
    try:
        with tempfile.TemporaryDirectory(prefix="modelyard-model-") as tmp:
            path = Path(tmp) / "model"
            save(path, model.model_id, run_id)
            client.upload_artifacts(model.artifact_uri, path)
        client.finalize_logged_model(model.model_id)
        if run_id:
            client.log_outputs(run_id, [model.model_id], step)
    except BaseException:
        _discard(client, model.model_id)
        raise
    info = ModelInfo(
        model.model_id, f"models:/{model.model_id}", name, run_id, model.artifact_uri, flavors
    )
    if registered_model_name:
        version = register_model(client, info.model_uri, registered_model_name)
        info = dataclasses.replace(info, registered_model_version=version.version)
    return info


def _discard(client: Client, model_id: str) -> None:
    try:
        client.delete_logged_model(model_id)
    except Exception as err:
        logger.warning("could not delete the failed logged model %s: %s", model_id, err)
