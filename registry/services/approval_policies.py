"""Approval policies: a model's protected stages and aliases, and the approvals a move needs.

A policy extends the model's protections (``registry.store.permissions``) with how many
approvals a move into a protected stage or alias needs and from whom: members of a named group,
else users with MANAGE on the model. ``registry.services.approvals`` runs the requests.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from registry.errors import InvalidParameter, PermissionDenied
from registry.store import approvals as store
from registry.store import permissions, write_transaction
from registry.store.aliases import aliases_by_model
from registry.store.registered_models import get_registered_model, lock_registered_model

MAX_APPROVALS = 10


@dataclass(frozen=True)
class Policy:
    """A model's protected stages and aliases and the approvals a move into them needs."""

    name: str
    stages: list[str]
    aliases: list[str]
    approvals_required: int
    approver_group: str | None


def policy_of(name: str) -> Policy:
    """A model's approval policy (no approvals when none was set).

    Raises:
        NotFound: no such model.
    """
    model_id = int(get_registered_model(name).id)
    protected = permissions.protections_of(name)
    settings = store.settings_of(model_id)
    return Policy(
        name,
        protected["stages"],
        protected["aliases"],
        settings.approvals_required,
        settings.approver_group,
    )


def set_policy(
    name: str,
    *,
    stages: list[str],
    aliases: list[str],
    approvals_required: int | None = None,
    approver_group: str | None = None,
    by_admin: bool,
) -> Policy:
    """Set a model's protected stages and aliases and, when given, its approval settings.

    ``approvals_required`` and ``approver_group`` left None keep their stored values; an empty
    ``approver_group`` clears the group (users with MANAGE approve). While the stored policy
    requires approvals only an admin may change anything: a manager who could lower it would
    approve their own moves.

    Raises:
        NotFound: no such model.
        InvalidParameter: a count out of 0..10 or a group name too long.
        PermissionDenied: the policy requires approvals and the caller is not an admin.
    """
    if approvals_required is not None and not 0 <= approvals_required <= MAX_APPROVALS:
        raise InvalidParameter(f"approvals_required must be between 0 and {MAX_APPROVALS}.")
    if approver_group is not None and len(approver_group.strip()) > 256:
        raise InvalidParameter("approver_group is longer than 256 characters.")
    with write_transaction():
        model = lock_registered_model(name)
        current = store.settings_of(int(model.id))
        if current.approvals_required > 0 and not by_admin:
            raise PermissionDenied(
                f"Model {name!r} requires approvals for moves into its protected stages and "
                "aliases: only an admin may change its protections or policy."
            )
        group = current.approver_group if approver_group is None else approver_group.strip()
        settings = store.Settings(
            current.approvals_required if approvals_required is None else approvals_required,
            group or None,
        )
        permissions.set_protections(name, stages, aliases)
        store.put_settings(int(model.id), settings)
    return policy_of(name)


def check_imported_stage(name: str, version: int, stage: str) -> None:
    """Refuse an import that would move a version into a stage whose policy needs approvals.

    An import writes with the source's values; it passes only where nothing protected changes
    (a model new here has no policy, and a re-run finds the version in its stage already).

    Raises:
        PermissionDenied: the version is not in ``stage`` and moving it there needs approvals.
    """
    current = permissions.version_stage(name, str(version))
    if current is not None and permissions.target_key("stage", current) == permissions.target_key(
        "stage", stage
    ):
        return
    if store.approvals_needed(name, "stage", stage):
        raise PermissionDenied(_refused_import(name, f"version {version} into stage {stage}"))


def check_imported_aliases(name: str, aliases: Mapping[str, int]) -> None:
    """Refuse an import that would set, move or remove an alias whose policy needs approvals.

    Raises:
        PermissionDenied: a protected alias would change.
    """
    if not permissions.model_exists(name):
        return
    model = get_registered_model(name)
    rows = aliases_by_model([int(model.id)]).get(int(model.id), [])
    current = {str(row.alias_name): int(row.version) for row in rows}
    for alias in sorted(set(current) | set(aliases)):
        if current.get(alias) != aliases.get(alias) and store.approvals_needed(
            name, "alias", alias
        ):
            raise PermissionDenied(_refused_import(name, f"alias @{alias}"))


def _refused_import(name: str, what: str) -> str:
    return (
        f"Model {name!r} requires approvals for moves into its protected stages and aliases: "
        f"the import does not move {what}. Move it with a transition request, or have an admin "
        "lower the policy for the import."
    )
