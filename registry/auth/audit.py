"""A request's audit row, and MANAGE for the creator of an experiment or registered model.

``prepare`` builds the row before the view runs; the store appends it inside the request's
first committing write transaction (``registry.store.audit``), where the creator's grant is
made too, so a write, its grant and its row commit or roll back together.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from registry.store import permissions
from registry.store.audit import AuditRecord, PendingAudit
from registry.store.auth_models import AuditEntry

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
    ("transition_requests.create", "registered_model", ("name",)),
    ("transition_requests.", "transition_request", ("request_id",)),
    ("groups_api.", "group", ("group",)),
    ("model_requests.create", "registered_model", ("name",)),
    ("model_requests.", "transition_request", ("request_id",)),
)
_CREATES_EXPERIMENT = ("api_experiments.create", "experiments.create")
_CREATES_MODEL = "registered_models.create"
_MAY_CREATE_MODEL = "run.register"
"""Registering from a run page creates the model when the name is new."""


def entry_json(entry: AuditEntry) -> dict[str, Any]:
    """The one JSON shape of an audit entry (the API's ``entries`` and the CLI's lines)."""
    return {
        "id": entry.id,
        "timestamp": entry.at,
        "username": entry.username,
        "action": entry.action,
        "method": entry.method,
        "path": entry.path,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "status": entry.status,
        "remote_addr": entry.remote_addr,
    }


def object_of(endpoint: str, fields: Mapping[str, Any]) -> tuple[str, str]:
    """``(object_type, object_id)`` of a write from its route and fields (empty when unknown)."""
    kind, keys = _kind_of(endpoint)
    found = next((str(v) for v in map(fields.get, keys) if v not in (None, "")), "")
    if kind == "registered_model" and fields.get("version") not in (None, ""):
        found = f"{found}/{fields['version']}"
    return kind, found[:256]


@functools.cache
def _kind_of(endpoint: str) -> tuple[str, tuple[str, ...]]:
    # Routes are a fixed set: each endpoint is matched against the table once per process.
    return next(
        ((kind, keys) for prefix, kind, keys in _KINDS if endpoint.startswith(prefix)), ("", ())
    )


def prepare(
    *,
    endpoint: str,
    method: str,
    path: str,
    fields: Mapping[str, Any],
    remote_addr: str,
    username: str,
    user_id: int | None,
) -> PendingAudit:
    """The audit row of a write request by ``username`` (empty: anonymous), before its view runs.

    On a create, the store's transaction also grants its creator (``user_id``) MANAGE.
    """
    object_type, object_id = object_of(endpoint, fields)
    record = AuditRecord(
        username=username[:256],
        action=endpoint[:128],
        method=method[:8],
        path=path[:1000],
        object_type=object_type,
        object_id=object_id,
        remote_addr=remote_addr[:64],
    )
    pending = PendingAudit(record)
    if endpoint in _CREATES_EXPERIMENT:
        name = str(fields.get("name") or "").strip()
        pending.in_transaction = _CreatorGrant("experiment", name, user_id)
    elif endpoint == _CREATES_MODEL:
        pending.in_transaction = _CreatorGrant("model", object_id, user_id)
    elif endpoint == _MAY_CREATE_MODEL:
        name = str(fields.get("name") or "").strip()
        if name and not permissions.model_exists(name):
            pending.in_transaction = _CreatorGrant("model", name, user_id)
    return pending


class _CreatorGrant:
    """In the create's own transaction: find the new object, grant its creator MANAGE."""

    def __init__(self, kind: str, name: str, user_id: int | None) -> None:
        self.kind = kind
        self.name = name
        self.user_id = user_id

    def __call__(self, record: AuditRecord) -> None:
        if self.kind == "model":
            if self.user_id is not None and self.name:
                permissions.set_model_permission(self.name, self.user_id, "MANAGE")
            return
        experiment_id = permissions.experiment_id_by_name(self.name) if self.name else None
        if experiment_id is None:
            return
        record.object_id = str(experiment_id)
        if self.user_id is not None:
            permissions.set_experiment_permission(experiment_id, self.user_id, "MANAGE")
