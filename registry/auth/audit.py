"""The audit log writer, and MANAGE for the creator of an experiment or registered model."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from registry.store import auth as store

_KINDS = (
    # (endpoint prefix, object type, request fields that name the object, in order)
    ("api_experiments.", "experiment", ("experiment_id",)),
    ("experiments.", "experiment", ("experiment_id",)),
    ("runs.", "experiment", ("experiment_id",)),
    ("api_runs.create", "experiment", ("experiment_id",)),
    ("api_runs.", "run", ("run_id", "run_uuid")),
    ("api_metrics.", "run", ("run_id", "run_uuid")),
    ("run.", "run", ("run_id",)),
    ("api_logged_models.create", "experiment", ("experiment_id",)),
    ("api_logged_models.", "logged_model", ("model_id",)),
    ("artifacts.", "artifact", ("path",)),
    ("registered_models.", "registered_model", ("name",)),
    ("model_versions.", "registered_model", ("name",)),
    ("model_history.", "registered_model", ("name",)),
    ("models.", "registered_model", ("name",)),
    ("auth_api.create_experiment_permission", "experiment", ("experiment_id",)),
    ("auth_api.update_experiment_permission", "experiment", ("experiment_id",)),
    ("auth_api.delete_experiment_permission", "experiment", ("experiment_id",)),
    ("auth_api.", "user", ("username",)),
)


def object_of(endpoint: str, fields: Mapping[str, Any], body: Any = None) -> tuple[str, str]:
    """``(object_type, object_id)`` of a write from its route and fields (empty when unknown).

    ``body`` is the JSON answer: it names what a create made (a new experiment's id).
    """
    answer = body if isinstance(body, dict) else {}
    for prefix, kind, keys in _KINDS:
        if not endpoint.startswith(prefix):
            continue
        values = [fields.get(key) for key in keys] + [answer.get(keys[0])]
        found = next((str(v) for v in values if v not in (None, "")), "")
        if kind == "registered_model" and fields.get("version") not in (None, ""):
            found = f"{found}/{fields['version']}"
        return kind, found[:256]
    return "", ""


def record(
    *,
    username: str,
    endpoint: str,
    method: str,
    path: str,
    fields: Mapping[str, Any],
    body: Any,
    status: int,
    remote_addr: str,
) -> None:
    """Append one write (allowed or refused) to the audit log."""
    object_type, object_id = object_of(endpoint, fields, body)
    store.append_audit(
        username=username[:256],
        action=endpoint[:128],
        method=method[:8],
        path=path[:1000],
        object_type=object_type,
        object_id=object_id,
        status=status,
        remote_addr=remote_addr[:64],
    )


def grant_creator(endpoint: str, user_id: int, body: Any) -> None:
    """Give the user who just created an experiment or a registered model MANAGE on it."""
    if not isinstance(body, dict):
        return
    if endpoint == "api_experiments.create" and body.get("experiment_id"):
        store.set_experiment_permission(int(body["experiment_id"]), user_id, "MANAGE")
    elif endpoint == "registered_models.create" and isinstance(body.get("registered_model"), dict):
        store.set_model_permission(str(body["registered_model"]["name"]), user_id, "MANAGE")
