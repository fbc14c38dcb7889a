"""What a new model version would read from: its creator must be able to read all of it.

A version's files are served to anyone who may read its registered model
(``model-versions/get-artifact``, ``get-download-uri``, the version page), so creating one must
not turn another experiment's artifacts into a model its creator owns. As MLflow's auth does
(``validate_can_create_model_version``), creating a version needs READ on the run ``run_id``
names, on the logged model ``model_id`` or a ``models:/m-...`` source names, and on the
registered model a ``models:/<name>/...`` source copies; and, since this server accepts a
``runs:/`` or ``mlflow-artifacts:/`` source without a ``run_id`` (MLflow refuses it), on the
experiment of the run or artifact path such a source names.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from registry.store import permissions as store
from registry.store.source_uris import (
    artifact_proxy_paths,
    logged_model_id_of,
    registered_model_ref,
    runs_uri_parts,
)


def source_experiments(
    fields: Mapping[str, Any], experiment_of_run: Callable[[str], int | None]
) -> list[int | None]:
    """The experiments a version created with ``fields`` reads from.

    A run or logged model that does not exist adds nothing (there is nothing to read, and the
    view answers the request); an ``mlflow-artifacts:/`` path that no run, logged model or
    experiment owns adds None (only an admin may reach such a path).
    """
    source = str(fields.get("source") or "")
    source_run = runs_uri_parts(source)
    run_ids = {str(fields.get("run_id") or ""), source_run[0] if source_run else ""}
    model_ids = {str(fields.get("model_id") or ""), logged_model_id_of(source)}
    found: list[int | None] = [experiment_of_run(r) for r in sorted(run_ids) if r]
    found += [store.experiment_of_logged_model(m) for m in sorted(model_ids) if m]
    found = [experiment_id for experiment_id in found if experiment_id is not None]
    return found + [store.experiment_of_artifact_path(p) for p in artifact_proxy_paths(source)]


def source_model(fields: Mapping[str, Any]) -> str | None:
    """The registered model a ``models:/<name>/<ref>`` (or ``@alias``) source copies, or None."""
    parts = registered_model_ref(str(fields.get("source") or ""))
    return parts[0] if parts else None
