"""``modelyard requests``: transition requests, approval policies and approver groups over HTTP.

Talks to a server run with ``--auth`` through ``registry.client.Client``, which sends the
credentials of ``MLFLOW_TRACKING_USERNAME``/``MLFLOW_TRACKING_PASSWORD`` or
``MLFLOW_TRACKING_TOKEN``: who runs the command is who requests or approves.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import click

from registry.client import Client
from registry.errors import RegistryError
from registry.wire.approvals import ApprovalPolicy, TransitionRequest

DEFAULT_TRACKING_URI = "http://127.0.0.1:5000"


class _Requests:
    """A client whose every refusal becomes a one-line ClickException."""

    def __init__(self, tracking_uri: str) -> None:
        self.client = Client(tracking_uri, async_logging=False)


def _table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    cells = [[str(h) for h in headers], *[["" if c is None else str(c) for c in r] for r in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _when(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S") if ms else ""


def _target(found: TransitionRequest) -> str:
    return f"@{found.alias}" if found.alias else str(found.stage)


def _progress(found: TransitionRequest) -> str:
    return f"{len(found.approvals)} of {found.approvals_required}"


def _client(ctx: click.Context) -> Client:
    obj: _Requests = ctx.obj
    return obj.client


def _refused(err: RegistryError) -> click.ClickException:
    return click.ClickException(f"{err.error_code}: {err.message}")


@click.group("requests")
@click.option(
    "--tracking-uri",
    envvar="MLFLOW_TRACKING_URI",
    default=DEFAULT_TRACKING_URI,
    show_default=True,
    help="The registry server, run with --auth (default $MLFLOW_TRACKING_URI).",
)
@click.pass_context
def requests_group(ctx: click.Context, tracking_uri: str) -> None:
    """Request, approve, reject and cancel moves into protected stages and aliases."""
    if not tracking_uri.startswith(("http://", "https://")):
        raise click.ClickException(f"--tracking-uri must be an http(s) URL, got {tracking_uri!r}")
    ctx.obj = _Requests(tracking_uri)
    ctx.call_on_close(ctx.obj.client.close)


@requests_group.command("create")
@click.argument("name")
@click.argument("version")
@click.option("--stage", default="", help="The protected stage to move the version into.")
@click.option("--alias", default="", help="The protected alias to point at the version.")
@click.option("--archive-existing", is_flag=True, help="Archive the stage's other versions.")
@click.option("--comment", default="", help="Why (shown to the approvers).")
@click.pass_context
def create(
    ctx: click.Context,
    name: str,
    version: str,
    stage: str,
    alias: str,
    archive_existing: bool,
    comment: str,
) -> None:
    """Request that VERSION of model NAME move into a protected stage or alias."""
    try:
        found = _client(ctx).create_transition_request(
            name,
            version,
            stage=stage or None,
            alias=alias or None,
            archive_existing_versions=archive_existing,
            comment=comment,
        )
    except RegistryError as err:
        raise _refused(err) from None
    click.echo(
        f"Request {found.id}: {name} version {version} to {_target(found)} "
        f"({_progress(found)} approvals)."
    )


@requests_group.command("list")
@click.argument("name", required=False)
@click.option(
    "--status",
    default="open",
    show_default=True,
    help="open, closed, all, approved, rejected, cancelled or stale.",
)
@click.pass_context
def list_requests(ctx: click.Context, name: str | None, status: str) -> None:
    """List transition requests (of model NAME, or of every model you may read)."""
    rows: list[list[object]] = []
    token: str | None = None
    try:
        while True:
            page = _client(ctx).search_transition_requests(name, status, 1000, token)
            rows += [
                [
                    r.id,
                    r.name,
                    r.version,
                    _target(r),
                    r.status,
                    _progress(r),
                    r.requested_by,
                    _when(r.created_at),
                ]
                for r in page
            ]
            token = page.token or None
            if not token:
                break
    except RegistryError as err:
        raise _refused(err) from None
    headers = ["ID", "MODEL", "VERSION", "TARGET", "STATUS", "APPROVALS", "REQUESTED BY", "CREATED"]
    click.echo(_table(headers, rows))


def _review(ctx: click.Context, verb: str, request_id: int, comment: str) -> TransitionRequest:
    client = _client(ctx)
    actions = {
        "approve": client.approve_transition_request,
        "reject": client.reject_transition_request,
        "cancel": client.cancel_transition_request,
        "comment": client.comment_on_transition_request,
    }
    try:
        return actions[verb](request_id, comment)
    except RegistryError as err:
        raise _refused(err) from None


@requests_group.command("approve")
@click.argument("request_id", type=int)
@click.option("--comment", default="", help="A note kept with the approval.")
@click.pass_context
def approve(ctx: click.Context, request_id: int, comment: str) -> None:
    """Approve request REQUEST_ID; the approval that completes it performs the move."""
    found = _review(ctx, "approve", request_id, comment)
    if found.status == "approved":
        click.echo(
            f"Request {found.id} approved: {found.name} version {found.version} moved "
            f"to {_target(found)}."
        )
    else:
        click.echo(f"Request {found.id}: {_progress(found)} approvals.")


@requests_group.command("reject")
@click.argument("request_id", type=int)
@click.option("--comment", default="", help="Why.")
@click.pass_context
def reject(ctx: click.Context, request_id: int, comment: str) -> None:
    """Reject request REQUEST_ID."""
    found = _review(ctx, "reject", request_id, comment)
    click.echo(f"Request {found.id} rejected.")


@requests_group.command("cancel")
@click.argument("request_id", type=int)
@click.option("--comment", default="", help="Why.")
@click.pass_context
def cancel(ctx: click.Context, request_id: int, comment: str) -> None:
    """Withdraw request REQUEST_ID (its requester, or MANAGE on the model)."""
    found = _review(ctx, "cancel", request_id, comment)
    click.echo(f"Request {found.id} cancelled.")


@requests_group.command("comment")
@click.argument("request_id", type=int)
@click.argument("text")
@click.pass_context
def comment(ctx: click.Context, request_id: int, text: str) -> None:
    """Add a comment to request REQUEST_ID."""
    found = _review(ctx, "comment", request_id, text)
    click.echo(f"Request {found.id}: comment added.")


@requests_group.group("policy")
def policy_group() -> None:
    """Show or set a model's protected stages and aliases and the approvals they need."""


def _echo_policy(policy: ApprovalPolicy) -> None:
    click.echo(f"model:     {policy.name}")
    click.echo(f"stages:    {', '.join(policy.stages) or '-'}")
    click.echo(f"aliases:   {', '.join('@' + a for a in policy.aliases) or '-'}")
    approvers = f"members of group {policy.approver_group}" if policy.approver_group else "MANAGE"
    if policy.approvals_required:
        click.echo(f"approvals: {policy.approvals_required}, from {approvers}")
    else:
        click.echo("approvals: none (MANAGE moves them directly)")


@policy_group.command("show")
@click.argument("name")
@click.pass_context
def show_policy(ctx: click.Context, name: str) -> None:
    """Show model NAME's approval policy."""
    try:
        _echo_policy(_client(ctx).get_approval_policy(name))
    except RegistryError as err:
        raise _refused(err) from None


@policy_group.command("set")
@click.argument("name")
@click.option("--stage", "stages", multiple=True, help="A protected stage (repeatable).")
@click.option("--alias", "aliases", multiple=True, help="A protected alias (repeatable).")
@click.option(
    "--approvals", default=1, show_default=True, help="Approvals a move needs (0: MANAGE only)."
)
@click.option("--group", default=None, help="The group whose members approve (default: MANAGE).")
@click.pass_context
def set_policy(
    ctx: click.Context,
    name: str,
    stages: tuple[str, ...],
    aliases: tuple[str, ...],
    approvals: int,
    group: str | None,
) -> None:
    """Set model NAME's protected stages and aliases and the approvals a move into them needs."""
    try:
        policy = _client(ctx).set_approval_policy(name, stages, aliases, approvals, group)
    except RegistryError as err:
        raise _refused(err) from None
    _echo_policy(policy)


@requests_group.group("group")
def group_group() -> None:
    """Approver groups (admins)."""


def _echo_groups(ctx: click.Context, action: str, *args: str) -> None:
    client = _client(ctx)
    try:
        if action == "add":
            groups = client.add_group_member(*args)
        elif action == "remove":
            groups = client.remove_group_member(*args)
        else:
            groups = client.list_groups()
    except RegistryError as err:
        raise _refused(err) from None
    click.echo(_table(["GROUP", "MEMBERS"], [[g.group, ", ".join(g.members)] for g in groups]))


@group_group.command("add")
@click.argument("group")
@click.argument("username")
@click.pass_context
def add_member(ctx: click.Context, group: str, username: str) -> None:
    """Add USERNAME to GROUP."""
    _echo_groups(ctx, "add", group, username)


@group_group.command("remove")
@click.argument("group")
@click.argument("username")
@click.pass_context
def remove_member(ctx: click.Context, group: str, username: str) -> None:
    """Remove USERNAME from GROUP."""
    _echo_groups(ctx, "remove", group, username)


@group_group.command("list")
@click.pass_context
def list_groups(ctx: click.Context) -> None:
    """List every group with its members."""
    _echo_groups(ctx, "list")


commands = [requests_group]
