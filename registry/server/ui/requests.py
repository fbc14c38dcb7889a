"""A model page's Requests tab: transition requests into protected stages and aliases.

While a model's approval policy requires approvals, its page offers "Request" instead of a
direct move into a protected stage or alias; the Requests tab lists open and closed requests
with approve, reject, cancel and comment buttons (CSRF-protected forms). Every action goes
through ``registry.services.approvals``, as the API's do; a refusal is flashed on the page.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import current_app, flash, request, url_for
from werkzeug.wrappers import Response

from registry.errors import InvalidParameter, NotFound
from registry.server.api.approvals import actor_for
from registry.server.ui.pages import back, make_blueprint
from registry.services import approval_policies, approvals
from registry.services.versions import parse_version
from registry.store.permissions import is_protected

bp = make_blueprint("model_requests", __name__, url_prefix="/models")

REVIEWS = ("approve", "reject", "cancel", "comment")
_DONE = {"approve": "approved", "reject": "rejected", "cancel": "cancelled", "comment": "noted"}


def _auth_on() -> bool:
    return bool(current_app.extensions["registry"].config.auth)


def tab_context(name: str) -> dict[str, Any]:
    """What the model page needs for its Requests tab and its Request buttons."""
    tab = request.args.get("tab", "versions")
    if not _auth_on():
        return {"requests_enabled": False, "tab": "versions", "needs_request": _never}
    policy = approval_policies.policy_of(name)
    actor = actor_for(name)
    listed: list[approvals.RequestView] = []
    if tab == "requests":
        listed, _token = approvals.list_requests(name, None, 200, None)
    protected = {"stage": policy.stages, "alias": policy.aliases}

    def needs_request(kind: str, target: str) -> bool:
        return policy.approvals_required > 0 and is_protected(kind, target, protected.get(kind, []))

    return {
        "requests_enabled": True,
        "tab": tab if tab in ("versions", "requests") else "versions",
        "policy": policy,
        "requests": listed,
        "open_requests": [r for r in listed if r.request.status == "open"],
        "closed_requests": [r for r in listed if r.request.status != "open"],
        "needs_request": needs_request,
        "may_approve": approvals.is_eligible(name, actor),
        "actor": actor,
    }


def _never(kind: str, target: str) -> bool:
    return False


@bp.post("/<path:name>/requests")
def create(name: str) -> Response:
    """Request a move of a version into a protected stage (``stage:X``) or alias (``alias:x``).

    Raises:
        NotFound: the server runs without auth.
        InvalidParameter: the target is neither a stage nor an alias.
    """
    if not _auth_on():
        raise NotFound("Transition requests need authentication: start the server with --auth.")
    kind, _, target = request.form.get("target", "").partition(":")
    if kind not in ("stage", "alias") or not target:
        raise InvalidParameter("Choose a stage or an alias to request.")
    number = parse_version(request.form.get("version", ""))
    made = approvals.request_transition(
        name,
        number,
        stage=target if kind == "stage" else "",
        alias=target if kind == "alias" else "",
        archive_existing=request.form.get("archive_existing") == "on",
        comment=request.form.get("comment", "").strip(),
        actor=actor_for(name),
    )
    flash(f"Request {made.request.id}: version {number} to {target} awaits approval.", "ok")
    return back(url_for("models.show", name=name, tab="requests"))


@bp.post("/<path:name>/requests/<int:request_id>/<action>")
def review(name: str, request_id: int, action: str) -> Response:
    """Approve, reject, cancel or comment on a request of this model.

    Raises:
        NotFound: no such action, or no such request on this model.
    """
    if not _auth_on() or action not in REVIEWS:
        raise NotFound(f"No such action: {action}.")
    if approvals.get_request(request_id).name != name:
        raise NotFound(f"Transition request {request_id} not found on model {name!r}.")
    actor = actor_for(name)
    comment = request.form.get("comment", "").strip()
    calls: dict[str, Callable[[int, approvals.Actor, str], approvals.RequestView]] = {
        "approve": approvals.approve,
        "reject": approvals.reject,
        "cancel": approvals.cancel,
        "comment": approvals.add_comment,
    }
    found = calls[action](request_id, actor, comment)
    status = found.request.status
    if action == "approve" and status == "approved":
        message = f"Request {request_id} approved: the move was made."
    elif action == "approve":
        count = sum(1 for r in found.reviews if r.action == "approve")
        message = f"Request {request_id} approved ({count} of {found.approvals_required})."
    else:
        message = f"Request {request_id} {_DONE[action]}."
    flash(message, "ok")
    return back(url_for("models.show", name=name, tab="requests"))
