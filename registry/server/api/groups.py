"""Ours: approver groups (admins add and remove members). Answers 404 without ``--auth``."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from registry.errors import NotFound
from registry.server.api import OUR_PREFIX, config, parse
from registry.store import approvals as store
from registry.store import auth as users
from registry.store import write_transaction
from registry.wire import approvals as wire

bp = Blueprint("groups_api", __name__)


@bp.before_request
def _auth_is_on() -> None:
    if not config().auth:
        raise NotFound("Groups need authentication: start the server with --auth.")


def _groups(group: str | None = None) -> Response:
    found = store.groups(group)
    listed = [wire.Group(name, tuple(members)) for name, members in found.items()]
    return jsonify({"groups": [wire.Group.Schema().dump(g) for g in listed]})


@bp.post(f"{OUR_PREFIX}/groups/add-member")
def add_member() -> Response:
    """Add a user to a group (admin)."""
    args = parse(wire.GroupMemberArgs())
    user = users.get_user(args["username"])
    with write_transaction():
        store.add_member(args["group"], int(user.id))
    return _groups(args["group"])


@bp.post(f"{OUR_PREFIX}/groups/remove-member")
def remove_member() -> Response:
    """Remove a user from a group (admin)."""
    args = parse(wire.GroupMemberArgs())
    user = users.get_user(args["username"])
    with write_transaction():
        store.remove_member(args["group"], int(user.id))
    return _groups(args["group"])


@bp.get(f"{OUR_PREFIX}/groups/list")
def list_groups() -> Response:
    """Every group with its members, or one (admin)."""
    return _groups(parse(wire.GroupListArgs())["group"])
