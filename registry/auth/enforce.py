"""Decide a request before its query runs: the rule of its route, applied to its principal."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from registry.auth.identity import Principal
from registry.auth.levels import Level, parse_level
from registry.auth.memo import MISSING, AuthMemo
from registry.auth.rules import Check, Rule
from registry.errors import PermissionDenied, Unauthenticated
from registry.store import permissions as store
from registry.store.experiments import DEFAULT_EXPERIMENT_ID, parse_experiment_id

_MISSING = object()


def authorize(
    principal: Principal | None,
    rule: Rule,
    fields: Mapping[str, Any],
    default: Level,
    memo: AuthMemo | None = None,
) -> None:
    """Return when ``principal`` may make this request; raise otherwise.

    ``fields`` are the request's arguments (URL, query string, form, JSON body); ``default`` is
    the level of a user on an object nobody granted them anything on; ``memo`` remembers
    lookups between requests.

    Raises:
        Unauthenticated: no principal on a route that needs one.
        PermissionDenied: the principal's level (or token scope) is too low.
    """
    if rule.access == "public":
        return
    if principal is None:
        raise Unauthenticated("Authentication required: send Basic or Bearer credentials.")
    if rule.level > principal.cap:
        raise PermissionDenied(f"This token's scope ({principal.scope}) does not allow this call.")
    if principal.acts_as_admin or rule.access == "user":
        return
    if rule.access == "admin":
        raise PermissionDenied("Only an admin may do this.")
    if rule.access == "self":
        if fields.get("username") in (None, "", principal.username):
            return
        raise PermissionDenied("Only an admin may act on another user.")
    if principal.is_admin:  # any admin token may reach every object, within its scope
        return
    memo = memo or AuthMemo()
    for check in rule.checks:
        _check(principal, check, fields, default, memo)


def level_on(
    principal: Principal, kind: str, object_id: Any, default: Level, memo: AuthMemo | None = None
) -> Level:
    """The principal's level on one experiment (by id) or registered model (by name)."""
    if principal.is_admin:
        return principal.cap
    memo = memo or AuthMemo()
    key = (principal.user_id, kind, str(object_id))
    remembered = memo.grants.get(key)
    if remembered is not MISSING:
        granted = remembered
    elif kind == "experiment":
        granted = store.experiment_permission(principal.user_id, int(object_id))
        memo.grants.put(key, granted)
    else:
        granted = store.model_permission(principal.user_id, str(object_id))
        memo.grants.put(key, granted)
    level = default if granted is None else parse_level(str(granted))
    return min(level, principal.cap)


def _check(
    principal: Principal,
    check: Check,
    fields: Mapping[str, Any],
    default: Level,
    memo: AuthMemo,
) -> None:
    kind, ids = _targets(check, fields, memo)
    if ids is None:
        raise PermissionDenied("Only an admin may reach artifacts no run or experiment owns.")
    for object_id in ids:
        needed = check.level
        if check.moves and _moves_protected(str(object_id), fields):
            needed = Level.MANAGE
        if level_on(principal, kind, object_id, default, memo) < needed:
            if kind == "model" and not store.model_exists(str(object_id)):
                # A model that does not exist protects nothing: the view answers 404, or
                # creates it (registering from a run page), which any signed-in user may.
                continue
            raise PermissionDenied(
                f"Permission denied: {needed.name} on {kind} {object_id!s} is needed."
            )


def _moves_protected(model_name: str, fields: Mapping[str, Any]) -> bool:
    protected = store.protections_of(model_name)
    if not protected["stages"] and not protected["aliases"]:
        return False
    kind, _, value = str(fields.get("target", "")).partition(":")
    stages = {str(fields.get("stage", "")), value if kind == "stage" else ""}
    if fields.get("stage") and fields.get("version") not in (None, ""):
        stages.add(store.version_stage(model_name, str(fields["version"])) or "")
    aliases = {str(fields.get("alias", "")), value if kind == "alias" else ""}
    return bool(
        {s.lower() for s in stages} & {s.lower() for s in protected["stages"]}
        or aliases & set(protected["aliases"])
    )


def _targets(
    check: Check, fields: Mapping[str, Any], memo: AuthMemo
) -> tuple[str, list[Any] | None]:
    """The objects a check is about: ``(kind, ids)``; ids None when they cannot be found."""
    locator = check.locator
    if locator == "resource":
        kind = str(fields.get("resource_type", ""))
        kind = "model" if kind == "registered_model" else kind
        if kind not in ("experiment", "model"):
            return kind, []
        value = fields.get("resource_id")
        if kind == "experiment":
            return kind, _existing([_experiment_id(value)])
        return kind, [str(value)] if value else []
    if check.kind == "model":
        name = fields.get(locator)
        return "model", [str(name)] if name else []
    ids = _experiment_ids(locator, fields, memo)
    if locator == "artifact_path" and None in ids:
        return "experiment", None
    return "experiment", _existing(ids)


def _experiment_ids(locator: str, fields: Mapping[str, Any], memo: AuthMemo) -> list[int | None]:
    value = fields.get(locator, _MISSING)
    if locator == "run_id":
        value = fields.get("run_id") or fields.get("run_uuid")
        return [_experiment_of_run(str(value), memo)] if value else []
    if locator in ("run_ids", "runs"):
        return [_experiment_of_run(str(v), memo) for v in _as_list(value) if v]
    if locator == "experiment_id":
        return [_experiment_id(value)]
    if locator == "experiment_id_or_default":
        return [_experiment_id(fields.get("experiment_id") or DEFAULT_EXPERIMENT_ID)]
    if locator == "experiment_ids":
        return [_experiment_id(v) for v in _as_list(value)]
    if locator == "experiment_name":
        return [store.experiment_id_by_name(str(value))] if value is not _MISSING else []
    if locator == "logged_model":
        model_id = fields.get("model_id")
        return [store.experiment_of_logged_model(str(model_id))] if model_id else []
    if locator == "artifact_path":
        path = fields.get("path")
        return [store.experiment_of_artifact_path(str(path))] if path else [None]
    raise ValueError(f"unknown locator {locator!r}")


def _experiment_of_run(run_id: str, memo: AuthMemo) -> int | None:
    remembered = memo.run_experiments.get(run_id)
    if isinstance(remembered, int):
        return remembered
    experiment_id = store.experiment_of_run(run_id)
    if experiment_id is not None:
        memo.run_experiments.put(run_id, experiment_id)
    return experiment_id


def _experiment_id(value: Any) -> int | None:
    if value is _MISSING or value is None or value == "":
        return None
    try:
        return parse_experiment_id(value)
    except Exception:
        return None


def _as_list(value: Any) -> list[Any]:
    if value is _MISSING or value is None:
        return []
    if isinstance(value, list | tuple):
        return [p for v in value for p in (str(v).split(",") if isinstance(v, str) else [v])]
    return [p for p in str(value).split(",")]


def _existing(ids: list[int | None]) -> list[Any]:
    # An id that names nothing protects nothing: the view answers it (404, or MLflow's
    # create-when-missing flows such as set_experiment).
    return [i for i in ids if i is not None]
