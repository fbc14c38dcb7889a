"""Ours: transition requests: request, approve, reject, cancel, comment, get and list.

A move into a stage or alias whose model policy requires approvals is refused when made
directly; a request here performs it once enough eligible users approved
(``registry.services.approvals``). Every route answers 404 while the server runs without
``--auth``: approvals are decided by who is asking.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify

from registry.auth.enforce import manages
from registry.auth.identity import Principal
from registry.errors import NotFound, PermissionDenied
from registry.server.api import OUR_PREFIX, config, parse
from registry.server.hardening import auth_memo, current_principal, default_level
from registry.services import approvals
from registry.services.versions import parse_version
from registry.store.auth import find_user_by_id
from registry.wire import approvals as wire

bp = Blueprint("transition_requests", __name__)

PREFIX = f"{OUR_PREFIX}/transition-requests"


@bp.before_request
def _auth_is_on() -> None:
    if not config().auth:
        raise NotFound("Transition requests need authentication: start the server with --auth.")


def actor_for(name: str) -> approvals.Actor:
    """The caller as an approvals ``Actor`` on model ``name`` (the API's and the UI's)."""
    principal = current_principal()
    if principal is None:  # the guard lets no anonymous request reach these views
        raise PermissionDenied("Authentication required.")
    default = default_level(config())

    def manages_now(user_id: int) -> bool:
        user = find_user_by_id(user_id)
        if user is None:
            return False
        # No memo: an earlier approver's grant is read as it is now.
        held = Principal(int(user.id), str(user.username), bool(user.is_admin))
        return manages(held, name, default)

    return approvals.Actor(
        principal.username,
        principal.user_id,
        manages(principal, name, default, auth_memo()),
        manages_now,
    )


def request_json(view: approvals.RequestView) -> dict[str, Any]:
    """The wire shape of one request."""
    row = view.request
    reviews = [
        wire.Review(str(r.action), str(r.username), str(r.comment), int(r.timestamp))
        for r in view.reviews
    ]
    found = wire.TransitionRequest(
        id=str(row.id),
        name=view.name,
        version=str(row.version),
        status=str(row.status),
        requested_by=str(row.requested_by),
        stage=str(row.target) if row.kind == approvals.STAGE else None,
        alias=str(row.target) if row.kind == approvals.ALIAS else None,
        archive_existing_versions=bool(row.archive_existing),
        comment=str(row.comment),
        holders_before=tuple(v for v in str(row.holders_before).split(",") if v),
        approvals_required=view.approvals_required,
        approvals=tuple(r.username for r in reviews if r.action == "approve"),
        created_at=int(row.created_at),
        updated_at=int(row.updated_at),
        resolved_by=str(row.resolved_by),
        status_reason=str(row.status_reason),
        reviews=tuple(reviews),
    )
    return wire.TransitionRequest.Schema().dump(found)  # type: ignore[no-any-return]


def _answer(view: approvals.RequestView) -> Response:
    return jsonify({"transition_request": request_json(view)})


def _actor_of_request(request_id: int) -> approvals.Actor:
    return actor_for(approvals.get_request(request_id).name)


@bp.post(f"{PREFIX}/create")
def create() -> Response:
    """Request that a version be moved into a protected stage or alias (EDIT on the model)."""
    args = parse(wire.NewRequestArgs())
    view = approvals.request_transition(
        args["name"],
        parse_version(args["version"]),
        stage=args["stage"],
        alias=args["alias"],
        archive_existing=args["archive_existing_versions"],
        comment=args["comment"],
        actor=actor_for(args["name"]),
    )
    return _answer(view)


@bp.get(f"{PREFIX}/get")
def get() -> Response:
    """One request with its approvals and comments (READ on the model)."""
    return _answer(approvals.get_request(parse(wire.RequestIdArgs())["request_id"]))


@bp.get(f"{PREFIX}/list")
def list_requests() -> Response:
    """Requests, newest first: of one model, or of every model the caller may read."""
    args = parse(wire.RequestListArgs())
    views, token = approvals.list_requests(
        args["name"], args["status"], args["max_results"], args["page_token"]
    )
    body: dict[str, Any] = {"transition_requests": [request_json(v) for v in views]}
    if token:
        body["next_page_token"] = token
    return jsonify(body)


@bp.post(f"{PREFIX}/approve")
def approve() -> Response:
    """Approve a request (an eligible approver, not its requester); the last approval moves."""
    args = parse(wire.ReviewArgs())
    actor = _actor_of_request(args["request_id"])
    return _answer(approvals.approve(args["request_id"], actor, args["comment"]))


@bp.post(f"{PREFIX}/reject")
def reject() -> Response:
    """Reject a request (an eligible approver, not its requester)."""
    args = parse(wire.ReviewArgs())
    actor = _actor_of_request(args["request_id"])
    return _answer(approvals.reject(args["request_id"], actor, args["comment"]))


@bp.post(f"{PREFIX}/cancel")
def cancel() -> Response:
    """Withdraw a request (its requester, or MANAGE on the model)."""
    args = parse(wire.ReviewArgs())
    actor = _actor_of_request(args["request_id"])
    return _answer(approvals.cancel(args["request_id"], actor, args["comment"]))


@bp.post(f"{PREFIX}/comment")
def comment() -> Response:
    """Comment on a request (READ on the model)."""
    args = parse(wire.ReviewArgs())
    actor = _actor_of_request(args["request_id"])
    return _answer(approvals.add_comment(args["request_id"], actor, args["comment"]))
