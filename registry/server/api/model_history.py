"""Ours: a model's transition history, who held a stage or alias when, and rollback."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from registry.server.api import OUR_PREFIX, parse, request_user
from registry.services import history
from registry.services.versions import parse_version
from registry.store.api_reads import transition_json
from registry.store.registered_models import now_ms
from registry.wire import responses as rs
from registry.wire.registry import HistorySchema, HolderSchema, RollbackSchema
from registry.wire.responses import shaped

bp = Blueprint("model_history", __name__)
_BASE = f"{OUR_PREFIX}/registered-models"


@bp.get(f"{_BASE}/history")
def model_history() -> Response:
    """Every stage change and alias move of a model, newest first, paged."""
    args = parse(HistorySchema())
    version = None if args["version"] is None else parse_version(args["version"])
    page = history.model_history(
        args["name"],
        version=version,
        max_results=args["max_results"],
        page_token=args["page_token"],
    )
    entries = [transition_json(t, args["name"]) for t in page.transitions]
    return jsonify(shaped(rs.HISTORY, transitions=entries, next_page_token=page.next_page_token))


@bp.get(f"{_BASE}/holders")
def holders() -> Response:
    """The versions that held a stage or alias at time ``at`` (ms since the epoch; default now)."""
    args = parse(HolderSchema())
    at = now_ms() if args["at"] is None else args["at"]
    found = history.holders_at(args["name"], at, stage=args["stage"], alias=args["alias"])
    return jsonify(shaped(rs.HOLDERS, name=args["name"], at=at, versions=[str(v) for v in found]))


@bp.post(f"{_BASE}/rollback")
def rollback() -> Response:
    """Give a stage or alias back to its previous holder; returns the entries recorded."""
    args = parse(RollbackSchema())
    recorded = history.rollback(
        args["name"],
        stage=args["stage"],
        alias=args["alias"],
        user_id=request_user(),
        comment=args["comment"],
    )
    return jsonify(
        shaped(rs.TRANSITIONS, transitions=[transition_json(t, args["name"]) for t in recorded])
    )
