"""Decide a request before its query runs: the rule of its route, applied to its principal."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from registry.auth.identity import Principal
from registry.auth.levels import Level, parse_level
from registry.auth.memo import MISSING, AuthMemo
from registry.auth.rules import Check, Rule
from registry.auth.version_sources import source_experiments, source_model
from registry.errors import PermissionDenied, Unauthenticated
from registry.store import permissions as store
from registry.store.approvals import approvals_needed, model_name_of_request, requires_approvals
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
    for check in rule.checks:
        if check.approvals:  # admins included: they change the policy instead (audited)
            _refuse_unapproved(check, fields)
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
        if check.frees_name and _frees_protected_name(str(object_id)):
            needed = Level.MANAGE
        if level_on(principal, kind, object_id, default, memo) < needed:
            if kind == "model" and not store.model_exists(str(object_id)):
                # A model that does not exist protects nothing: the view answers 404, or
                # creates it (registering from a run page), which any signed-in user may.
                continue
            raise PermissionDenied(
                f"Permission denied: {needed.name} on {kind} {object_id!s} is needed."
            )


def _moved_targets(fields: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The stages and aliases a request names (``stage``, ``alias``, or ``target=kind:value``)."""
    kind, _, value = str(fields.get("target", "")).partition(":")
    named = [("stage", str(fields.get("stage") or "")), ("alias", str(fields.get("alias") or ""))]
    if kind in ("stage", "alias"):
        named.append((kind, value))
    return [(k, v) for k, v in named if v.strip()]


def _moves_protected(model_name: str, fields: Mapping[str, Any]) -> bool:
    protected = store.protections_of(model_name)
    if not protected["stages"] and not protected["aliases"]:
        return False
    targets = _moved_targets(fields)
    if fields.get("stage") and fields.get("version") not in (None, ""):
        targets.append(("stage", store.version_stage(model_name, str(fields["version"])) or ""))
    plural = {"stage": "stages", "alias": "aliases"}
    return any(store.is_protected(k, v, protected[plural[k]]) for k, v in targets)


def _frees_protected_name(model_name: str) -> bool:
    """Whether renaming or deleting the model would free a protected name (see rules.Check)."""
    if requires_approvals(model_name):
        raise PermissionDenied(
            f"Model {model_name} requires approvals for moves into its protected stages and "
            "aliases: only an admin may rename or delete it."
        )
    protected = store.protections_of(model_name)
    return bool(protected["stages"] or protected["aliases"])


REQUEST_ENDPOINT = "POST /api/2.0/modelyard/transition-requests/create"


def _refuse_unapproved(check: Check, fields: Mapping[str, Any]) -> None:
    """Refuse a direct move into a stage or alias whose model policy requires approvals."""
    name = fields.get(check.locator)
    if not name:
        return
    for kind, target in _moved_targets(fields):
        needed = approvals_needed(str(name), kind, target)
        if not needed:
            continue
        what = f"stage {target.strip()}" if kind == "stage" else f"alias @{target.strip()}"
        plural = "s" if needed > 1 else ""
        raise PermissionDenied(
            f"Moving a version into {what} of model {name!s} needs {needed} approval{plural} "
            f"(a rollback too): request it with {REQUEST_ENDPOINT} (or `modelyard requests "
            "create`, or the model page's Request button)."
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
    if check.kind == "model" and locator == "request_id":
        found = _model_of_request(fields.get(locator))
        return "model", [found] if found else []
    if locator == "source_model":
        copied = source_model(fields)
        return "model", [copied] if copied else []
    if check.kind == "model":
        name = fields.get(locator)
        return "model", [str(name)] if name else []
    ids = _experiment_ids(locator, fields, memo)
    if locator in ("artifact_path", "version_source") and None in ids:
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
    if locator == "version_source":
        return source_experiments(fields, lambda run_id: _experiment_of_run(run_id, memo))
    if locator == "artifact_path":
        path = fields.get("path")
        return [store.experiment_of_artifact_path(str(path))] if path else [None]
    raise ValueError(f"unknown locator {locator!r}")


def _model_of_request(value: Any) -> str | None:
    # A request id that names nothing protects nothing: the view answers 404.
    try:
        return model_name_of_request(int(value))
    except (TypeError, ValueError):
        return None


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


def manages(
    principal: Principal, model_name: str, default: Level, memo: AuthMemo | None = None
) -> bool:
    """Whether the principal has MANAGE on a registered model (admins do, within scope)."""
    return level_on(principal, "model", model_name, default, memo) >= Level.MANAGE
