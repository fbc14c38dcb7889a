"""Ours, beyond MLflow: approval policies, transition requests and approver groups.

These call ``/api/2.0/modelyard/...`` on a server started with ``--auth`` (without it they answer
``NotFound``): who asks decides who may approve.
"""

from __future__ import annotations

from collections.abc import Sequence

from registry.client.base import ClientBase
from registry.client.transport import OURS
from registry.entities import PagedList
from registry.wire.approvals import ApprovalPolicy, Group, TransitionRequest

_REQUESTS = "transition-requests"


class ApprovalsMixin(ClientBase):
    """Approval policies, transition requests (request, approve, reject, cancel) and groups."""

    def get_approval_policy(self, name: str) -> ApprovalPolicy:
        """A model's protected stages and aliases and the approvals a move into them needs.

        Raises:
            NotFound: no such model (or the server runs without auth).
        """
        reply = self._call("GET", "registered-models/protections", {"name": name}, prefix=OURS)
        return ApprovalPolicy.from_dict(reply)

    def set_approval_policy(
        self,
        name: str,
        stages: Sequence[str] = (),
        aliases: Sequence[str] = (),
        approvals_required: int = 1,
        approver_group: str | None = None,
    ) -> ApprovalPolicy:
        """Protect these stages and aliases of a model, moved only through approved requests.

        ``approvals_required`` 0 keeps the protection MANAGE-only (no requests); ``approver_group``
        names the group whose members approve (None: users with MANAGE on the model).

        Raises:
            PermissionDenied: the caller lacks MANAGE, or the model's policy already requires
                approvals and the caller is not an admin.
        """
        body = {
            "name": name,
            "stages": list(stages),
            "aliases": list(aliases),
            "approvals_required": approvals_required,
            "approver_group": approver_group or "",
        }
        reply = self._call("POST", "registered-models/protections", body, prefix=OURS)
        return ApprovalPolicy.from_dict(reply)

    def create_transition_request(
        self,
        name: str,
        version: str | int,
        stage: str | None = None,
        alias: str | None = None,
        archive_existing_versions: bool = False,
        comment: str = "",
    ) -> TransitionRequest:
        """Ask for a version to be moved into a protected stage (or alias).

        Raises:
            InvalidParameter: the target needs no approval, or neither/both of stage and alias.
            InvalidState: the version is there already, or an open request asks the same.
        """
        body = {
            "name": name,
            "version": str(version),
            "stage": stage or "",
            "alias": alias or "",
            "archive_existing_versions": archive_existing_versions,
            "comment": comment,
        }
        return self._request_call("create", body)

    def get_transition_request(self, request_id: str | int) -> TransitionRequest:
        """One request with its approvals and comments.

        Raises:
            NotFound: no such request.
        """
        reply = self._call("GET", f"{_REQUESTS}/get", {"request_id": int(request_id)}, prefix=OURS)
        return TransitionRequest.from_dict(reply["transition_request"])

    def search_transition_requests(
        self,
        name: str | None = None,
        status: str = "all",
        max_results: int = 100,
        page_token: str | None = None,
    ) -> PagedList[TransitionRequest]:
        """A page of requests, newest first, of one model or every model the caller reads.

        ``status`` is ``all``, ``open``, ``closed`` or one of ``approved``, ``rejected``,
        ``cancelled``, ``stale``.
        """
        body = {
            "name": name,
            "status": status,
            "max_results": max_results,
            "page_token": page_token,
        }
        return self._page(
            "GET",
            f"{_REQUESTS}/list",
            body,
            "transition_requests",
            TransitionRequest.from_dict,
            OURS,
        )

    def approve_transition_request(
        self, request_id: str | int, comment: str = ""
    ) -> TransitionRequest:
        """Approve a request; the approval that reaches the policy's count performs the move.

        Raises:
            PermissionDenied: the caller requested it, or may not approve on this model.
            InvalidState: the request is closed, already approved by the caller, or stale.
        """
        return self._request_call("approve", {"request_id": int(request_id), "comment": comment})

    def reject_transition_request(
        self, request_id: str | int, comment: str = ""
    ) -> TransitionRequest:
        """Reject a request (an eligible approver other than its requester)."""
        return self._request_call("reject", {"request_id": int(request_id), "comment": comment})

    def cancel_transition_request(
        self, request_id: str | int, comment: str = ""
    ) -> TransitionRequest:
        """Withdraw a request (its requester, or a user with MANAGE on the model)."""
        return self._request_call("cancel", {"request_id": int(request_id), "comment": comment})

    def comment_on_transition_request(
        self, request_id: str | int, comment: str
    ) -> TransitionRequest:
        """Add a comment to a request."""
        return self._request_call("comment", {"request_id": int(request_id), "comment": comment})

    def add_group_member(self, group: str, username: str) -> list[Group]:
        """Add a user to an approver group (admin)."""
        return self._groups("POST", "add-member", {"group": group, "username": username})

    def remove_group_member(self, group: str, username: str) -> list[Group]:
        """Remove a user from an approver group (admin)."""
        return self._groups("POST", "remove-member", {"group": group, "username": username})

    def list_groups(self, group: str | None = None) -> list[Group]:
        """Every approver group with its members, or one (admin)."""
        return self._groups("GET", "list", {"group": group} if group else {})

    def _request_call(self, verb: str, body: dict[str, object]) -> TransitionRequest:
        reply = self._call("POST", f"{_REQUESTS}/{verb}", body, prefix=OURS)
        return TransitionRequest.from_dict(reply["transition_request"])

    def _groups(self, method: str, verb: str, body: dict[str, object]) -> list[Group]:
        reply = self._call(method, f"groups/{verb}", body, prefix=OURS)
        return [Group.from_dict(g) for g in reply.get("groups") or []]
