"""The login page, logout, and the admin page (users, tokens, permissions)."""

from __future__ import annotations

from typing import Any

from flask import current_app, flash, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

from registry.auth.enforce import level_on
from registry.auth.identity import password_principal
from registry.auth.levels import Level, parse_level
from registry.auth.passwords import hash_password
from registry.errors import Unauthenticated
from registry.server.hardening import auth_memo, current_principal, default_level
from registry.server.ui.pages import make_blueprint
from registry.store import auth as store
from registry.store import permissions

bp = make_blueprint("auth_ui", __name__)


@bp.app_context_processor
def _current_user() -> dict[str, Any]:
    principal = current_principal()
    return {
        "current_user": principal.username if principal else None,
        "auth_enabled": current_app.extensions["registry"].config.auth,
        "may": may,
    }


def may(kind: str, object_id: Any, level: str) -> bool:
    """In templates: may the signed-in user act at ``level`` on an experiment or model?

    ``{% if may("experiment", experiment.experiment_id, "MANAGE") %}`` hides a button the
    server would refuse anyway. Always true with auth off.
    """
    config = current_app.extensions["registry"].config
    if not config.auth:
        return True
    principal = current_principal()
    if principal is None:
        return False
    held = level_on(principal, kind, object_id, default_level(config), auth_memo())
    return held >= parse_level(level)


def _local(target: str) -> str:
    if not target.startswith("/") or target.startswith(("//", "/\\")):
        return url_for("experiments.index")
    return target


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | str | tuple[str, int]:
    """The login form; a good password starts a session (the cookie is HttpOnly, SameSite)."""
    target = _local(request.values.get("next", ""))
    if request.method == "GET":
        return render_template("auth/login.html", next=target)
    try:
        principal = password_principal(
            request.form.get("username", ""), request.form.get("password", "")
        )
    except Unauthenticated as err:
        return render_template("auth/login.html", next=target, error=err.message), 401
    session.clear()
    session["user_id"] = principal.user_id
    return redirect(target, code=303)


@bp.post("/logout")
def logout() -> Response:
    """End the session."""
    session.clear()
    return redirect(url_for("auth_ui.login"), code=303)


@bp.get("/admin")
def admin() -> str:
    """Users, their tokens and grants (admin)."""
    users = store.list_users()
    grants = {int(u.id): permissions.permissions_of(int(u.id)) for u in users}
    tokens = store.list_tokens(None)
    return render_template(
        "auth/admin.html", users=users, grants=grants, tokens=tokens, levels=list(Level)
    )


@bp.post("/admin")
def admin_action() -> Response:
    """Create a user, grant a level, or revoke a token (admin)."""
    action = request.form.get("action", "")
    form = request.form
    if action == "create_user":
        store.create_user(form.get("username", "").strip(), hash_password(form.get("password", "")))
        flash(f"User {form.get('username')} created.", "info")
    elif action == "grant":
        user = store.get_user(form.get("username", ""))
        level = parse_level(form.get("permission", "")).name
        if form.get("resource_type") == "experiment":
            permissions.set_experiment_permission(
                int(form.get("resource_id", "-1")), int(user.id), level
            )
        else:
            permissions.set_model_permission(form.get("resource_id", ""), int(user.id), level)
        flash(f"{level} granted to {user.username}.", "info")
    elif action == "revoke_token":
        store.revoke_token(int(form.get("token_id", "-1")), None)
        flash("Token revoked.", "info")
    return redirect(url_for("auth_ui.admin"), code=303)
