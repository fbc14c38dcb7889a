"""MLflow's auth REST API (users, experiment and model permissions) and our tokens and audit.

The MLflow part answers as MLflow's ``basic-auth`` app does, so
``mlflow.server.get_app_client("basic-auth", tracking_uri=...)`` works unmodified. Tokens,
service accounts and the audit log live under our own prefix. Every route here answers 404
while the server runs without ``--auth``: users created then would become real accounts later.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify

from registry.auth.audit import entry_json
from registry.auth.levels import Level, parse_level, parse_scope
from registry.auth.passwords import hash_password, verify_password
from registry.auth.tokens import new_token
from registry.errors import NotFound, PermissionDenied
from registry.server.api import OUR_PREFIX, config, parse
from registry.server.hardening import current_principal, default_level
from registry.services import approval_policies as approvals
from registry.store import audit as audit_store
from registry.store import auth as store
from registry.store import permissions
from registry.store.auth_models import ApiToken, User
from registry.store.experiments import parse_experiment_id
from registry.wire import auth as wire
from registry.wire.approvals import ApprovalPolicy, PolicyArgs

bp = Blueprint("auth_api", __name__)

V2 = "/api/2.0/mlflow"
V3 = "/api/3.0/mlflow"
_DAY_MS = 86_400_000


@bp.before_request
def _auth_is_on() -> None:
    if not config().auth:
        raise NotFound("Authentication is off on this server: start it with --auth.")


def _user_json(user: User, *, with_permissions: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": user.id,
        "username": user.username,
        "is_admin": bool(user.is_admin),
        "is_service_account": bool(user.is_service_account),
    }
    if with_permissions:
        experiments, models = permissions.permissions_of(int(user.id))
        body["experiment_permissions"] = [
            {"experiment_id": str(p.experiment_id), "user_id": user.id, "permission": p.permission}
            for p in experiments
        ]
        body["registered_model_permissions"] = [
            {"name": m["name"], "user_id": user.id, "permission": m["permission"]} for m in models
        ]
    return body


def _principal_user_id() -> int:
    principal = current_principal()
    if principal is None:  # the guard lets no anonymous request reach these views
        raise PermissionDenied("Authentication required.")
    return principal.user_id


# --- users (MLflow) ---------------------------------------------------------------------------


@bp.post(f"{V2}/users/create")
def create_user() -> Response:
    """Create a user with a password (admin)."""
    args = parse(wire.NewUserArgs())
    user = store.create_user(args["username"], hash_password(args["password"]))
    return jsonify({"user": _user_json(user)})


@bp.get(f"{V2}/users/get")
def get_user() -> Response:
    """One user with their permissions (themselves, or anyone for an admin)."""
    user = store.get_user(parse(wire.UsernameArgs())["username"])
    return jsonify({"user": _user_json(user, with_permissions=True)})


@bp.get(f"{V2}/users/current")
def current_user() -> Response:
    """The authenticated user."""
    user = store.find_user_by_id(_principal_user_id())
    if user is None:
        raise NotFound("The current user no longer exists.")
    return jsonify({"user": _user_json(user, with_permissions=True)})


@bp.get(f"{V2}/users/list")
def list_users() -> Response:
    """Every user (admin)."""
    return jsonify({"users": [_user_json(u) for u in store.list_users()]})


@bp.patch(f"{V2}/users/update-password")
def update_password() -> Response:
    """Change a password; a non-admin changing their own must give the current one."""
    args = parse(wire.PasswordArgs())
    principal = current_principal()
    user = store.get_user(args["username"])
    is_admin = principal is not None and principal.acts_as_admin
    if not is_admin and not verify_password(user.password_hash, args["current_password"] or ""):
        raise PermissionDenied("The current password is missing or wrong.")
    store.update_user(args["username"], password_hash=hash_password(args["password"]))
    return jsonify({})


@bp.patch(f"{V2}/users/update-admin")
def update_admin() -> Response:
    """Make a user an admin, or not (admin)."""
    args = parse(wire.AdminArgs())
    store.update_user(args["username"], is_admin=args["is_admin"])
    return jsonify({})


@bp.delete(f"{V2}/users/delete")
def delete_user() -> Response:
    """Delete a user with their tokens and permissions (admin)."""
    store.delete_user(parse(wire.UsernameArgs())["username"])
    return jsonify({})


# --- experiment permissions (MLflow) ----------------------------------------------------------


def _experiment_permission(args: dict[str, Any]) -> dict[str, Any]:
    user = store.get_user(args["username"])
    experiment_id = parse_experiment_id(args["experiment_id"])
    permission = permissions.experiment_permission(int(user.id), experiment_id)
    if permission is None:
        raise NotFound(
            f"Experiment permission with experiment_id={experiment_id} and "
            f"username={args['username']} not found"
        )
    return {"experiment_id": str(experiment_id), "user_id": user.id, "permission": permission}


def _set_experiment_permission() -> Response:
    args = parse(wire.ExperimentGrantArgs())
    user = store.get_user(args["username"])
    level = parse_level(args["permission"] or "").name
    permissions.set_experiment_permission(
        parse_experiment_id(args["experiment_id"]), int(user.id), level
    )
    return jsonify({"experiment_permission": _experiment_permission(args)})


@bp.post(f"{V2}/experiments/permissions/create")
def create_experiment_permission() -> Response:
    """Grant a user a level on an experiment (MANAGE on it)."""
    return _set_experiment_permission()


@bp.patch(f"{V2}/experiments/permissions/update")
def update_experiment_permission() -> Response:
    """Change a user's level on an experiment (MANAGE on it)."""
    _set_experiment_permission()
    return jsonify({})


@bp.get(f"{V2}/experiments/permissions/get")
def get_experiment_permission() -> Response:
    """A user's grant on an experiment (MANAGE on it)."""
    return jsonify(
        {"experiment_permission": _experiment_permission(parse(wire.ExperimentGrantArgs()))}
    )


@bp.delete(f"{V2}/experiments/permissions/delete")
def delete_experiment_permission() -> Response:
    """Remove a user's grant on an experiment (MANAGE on it)."""
    args = parse(wire.ExperimentGrantArgs())
    user = store.get_user(args["username"])
    permissions.delete_experiment_permission(
        parse_experiment_id(args["experiment_id"]), int(user.id)
    )
    return jsonify({})


# --- registered model permissions (MLflow) ----------------------------------------------------


def _model_permission(args: dict[str, Any]) -> dict[str, Any]:
    user = store.get_user(args["username"])
    permission = permissions.model_permission(int(user.id), args["name"])
    if permission is None:
        raise NotFound(
            f"Registered model permission with name={args['name']} and "
            f"username={args['username']} not found"
        )
    return {"name": args["name"], "user_id": user.id, "permission": permission}


def _set_model_permission() -> Response:
    args = parse(wire.ModelGrantArgs())
    user = store.get_user(args["username"])
    permissions.set_model_permission(
        args["name"], int(user.id), parse_level(args["permission"] or "").name
    )
    return jsonify({"registered_model_permission": _model_permission(args)})


@bp.post(f"{V2}/registered-models/permissions/create")
def create_model_permission() -> Response:
    """Grant a user a level on a registered model (MANAGE on it)."""
    return _set_model_permission()


@bp.patch(f"{V2}/registered-models/permissions/update")
def update_model_permission() -> Response:
    """Change a user's level on a registered model (MANAGE on it)."""
    _set_model_permission()
    return jsonify({})


@bp.get(f"{V2}/registered-models/permissions/get")
def get_model_permission() -> Response:
    """A user's grant on a registered model (MANAGE on it)."""
    return jsonify({"registered_model_permission": _model_permission(parse(wire.ModelGrantArgs()))})


@bp.delete(f"{V2}/registered-models/permissions/delete")
def delete_model_permission() -> Response:
    """Remove a user's grant on a registered model (MANAGE on it)."""
    args = parse(wire.ModelGrantArgs())
    user = store.get_user(args["username"])
    permissions.delete_model_permission(args["name"], int(user.id))
    return jsonify({})


# --- per-user grants (MLflow 3's unified API) -------------------------------------------------


@bp.post(f"{V3}/users/permissions/grant")
def grant_permission() -> Response:
    """Grant a user a level on an experiment or registered model (MANAGE on it)."""
    args = parse(wire.ResourceGrantArgs())
    user = store.get_user(args["username"])
    level = parse_level(args["permission"] or "").name
    if args["resource_type"] == "experiment":
        experiment_id = parse_experiment_id(args["resource_id"])
        permissions.set_experiment_permission(experiment_id, int(user.id), level)
    else:
        permissions.set_model_permission(args["resource_id"], int(user.id), level)
    return jsonify({})


@bp.post(f"{V3}/users/permissions/revoke")
def revoke_permission() -> Response:
    """Remove a user's grant on an experiment or registered model (MANAGE on it)."""
    args = parse(wire.ResourceGrantArgs())
    user = store.get_user(args["username"])
    if args["resource_type"] == "experiment":
        experiment_id = parse_experiment_id(args["resource_id"])
        permissions.delete_experiment_permission(experiment_id, int(user.id))
    else:
        permissions.delete_model_permission(args["resource_id"], int(user.id))
    return jsonify({})


@bp.get(f"{V3}/users/permissions/get")
def get_permission() -> Response:
    """A user's effective level on a resource: ``{"allowed", "permission"}``."""
    args = parse(wire.ResourceGrantArgs())
    user = store.get_user(args["username"])
    if user.is_admin:
        level = Level.MANAGE
    elif args["resource_type"] == "experiment":
        granted = permissions.experiment_permission(
            int(user.id), parse_experiment_id(args["resource_id"])
        )
        level = default_level(config()) if granted is None else parse_level(granted)
    else:
        granted = permissions.model_permission(int(user.id), args["resource_id"])
        level = default_level(config()) if granted is None else parse_level(granted)
    return jsonify({"allowed": level >= Level.READ, "permission": level.name})


# --- tokens, service accounts, audit (ours) ---------------------------------------------------


def _token_json(token: ApiToken) -> dict[str, Any]:
    return {
        "id": token.id,
        "name": token.name,
        "username": token.user.username,
        "scope": token.scope,
        "created_at": token.created_at,
        "expires_at": token.expires_at,
        "revoked_at": token.revoked_at,
    }


@bp.post(f"{OUR_PREFIX}/tokens/create")
def create_token() -> Response:
    """Create a token; its secret is in this answer only.

    Only an admin may create a token for another user (a service account) or an admin token.
    """
    args = parse(wire.NewTokenArgs())
    principal = current_principal()
    admin = principal is not None and principal.acts_as_admin
    owner = store.find_user_by_id(_principal_user_id())
    if args["username"] and (owner is None or args["username"] != owner.username):
        if not admin:
            raise PermissionDenied("Only an admin may create a token for another user.")
        owner = store.get_user(args["username"])
    if owner is None:
        raise NotFound("The current user no longer exists.")
    scope = parse_scope(args["scope"])
    if scope == "admin" and not (admin and owner.is_admin):
        raise PermissionDenied("Only an admin may create an admin token, for an admin.")
    days = args["expires_in_days"]
    expires_at = store.now_ms() + days * _DAY_MS if days else None
    fresh = new_token()
    token = store.create_token(
        owner, args["name"], scope, fresh.lookup, fresh.secret_hash, expires_at
    )
    return jsonify({"token": _token_json(token), "secret": fresh.plaintext})


@bp.get(f"{OUR_PREFIX}/tokens/list")
def list_tokens() -> Response:
    """The caller's tokens (an admin may ask for anyone's, or everyone's with ``username=*``)."""
    args = parse(wire.TokenListArgs())
    principal = current_principal()
    user_id: int | None = _principal_user_id()
    if args["username"] and principal is not None and principal.acts_as_admin:
        user_id = None if args["username"] == "*" else int(store.get_user(args["username"]).id)
    return jsonify({"tokens": [_token_json(t) for t in store.list_tokens(user_id)]})


@bp.post(f"{OUR_PREFIX}/tokens/revoke")
def revoke_token() -> Response:
    """Revoke one of the caller's tokens (an admin: anyone's)."""
    args = parse(wire.TokenIdArgs())
    principal = current_principal()
    owner = None if principal is not None and principal.acts_as_admin else _principal_user_id()
    store.revoke_token(args["id"], owner)
    return jsonify({"id": args["id"], "revoked": True})


@bp.post(f"{OUR_PREFIX}/service-accounts/create")
def create_service_account() -> Response:
    """Create a service account: a user with no password, reached with tokens (admin)."""
    args = parse(wire.UsernameArgs())
    user = store.create_user(args["username"], None, is_service_account=True)
    return jsonify({"user": _user_json(user)})


def _policy_json(policy: approvals.Policy) -> dict[str, Any]:
    found = ApprovalPolicy(
        policy.name,
        tuple(policy.stages),
        tuple(policy.aliases),
        policy.approvals_required,
        policy.approver_group,
    )
    return ApprovalPolicy.Schema().dump(found)  # type: ignore[no-any-return]


@bp.get(f"{OUR_PREFIX}/registered-models/protections")
def get_protections() -> Response:
    """A model's protected stages and aliases and the approvals a move into them needs (READ)."""
    return jsonify(_policy_json(approvals.policy_of(parse(wire.ModelNameArgs())["name"])))


@bp.post(f"{OUR_PREFIX}/registered-models/protections")
def set_protections() -> Response:
    """Set which stages and aliases only MANAGE may move, and the approvals a move needs.

    MANAGE on the model; only an admin once the model's policy requires approvals.
    """
    args = parse(PolicyArgs())
    principal = current_principal()
    policy = approvals.set_policy(
        args["name"],
        stages=args["stages"],
        aliases=args["aliases"],
        approvals_required=args["approvals_required"],
        approver_group=args["approver_group"],
        by_admin=principal is not None and principal.acts_as_admin,
    )
    return jsonify(_policy_json(policy))


@bp.get(f"{OUR_PREFIX}/audit")
def audit() -> Response:
    """A page of the audit log, newest first, filtered by user and object (admin)."""
    args = parse(wire.AuditArgs())
    entries, token = audit_store.search_audit(
        args["username"],
        args["object_type"],
        args["object_id"],
        args["max_results"],
        args["page_token"],
    )
    body: dict[str, Any] = {"entries": [entry_json(e) for e in entries]}
    if token:
        body["next_page_token"] = token
    return jsonify(body)
