"""Grants, protected stages and aliases, which experiment owns an object, and visibility.

Visibility: ``restrict_to(viewer)`` binds, for the current context, whose rows a search may
return; ``visible_experiments(column)`` / ``visible_models(column)`` turn that into a SQL
condition the search queries add to their WHERE clause, so pages stay full and counts stay
right. With no viewer bound (auth off, an admin, the CLI) nothing is filtered.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import peewee

from registry.errors import NotFound
from registry.store import write_transaction
from registry.store.auth_models import (
    ExperimentPermission,
    ModelProtection,
    RegisteredModelPermission,
)
from registry.store.models import Experiment, LoggedModel, ModelVersion, RegisteredModel, Run
from registry.store.upserts import upsert_rows

READABLE = ("READ", "EDIT", "MANAGE")
ARTIFACT_SCHEME = "mlflow-artifacts:/"

# --- permissions ------------------------------------------------------------------------------


def experiment_permission(user_id: int, experiment_id: int) -> str | None:
    """The level granted to the user on the experiment, or None."""
    value: str | None = (
        ExperimentPermission.select(ExperimentPermission.permission)
        .where(
            ExperimentPermission.user == user_id,
            ExperimentPermission.experiment == experiment_id,
        )
        .scalar()
    )
    return value


def model_permission(user_id: int, model_name: str) -> str | None:
    """The level granted to the user on the registered model, or None."""
    value: str | None = (
        RegisteredModelPermission.select(RegisteredModelPermission.permission)
        .join(RegisteredModel)
        .where(RegisteredModelPermission.user == user_id, RegisteredModel.name == model_name)
        .scalar()
    )
    return value


def set_experiment_permission(experiment_id: int, user_id: int, permission: str) -> None:
    """Grant (or change) a user's level on an experiment.

    Raises:
        NotFound: no such experiment.
    """
    if not Experiment.select().where(Experiment.experiment_id == experiment_id).exists():
        raise NotFound(f"No experiment with id={experiment_id}")
    with write_transaction():
        _upsert(
            ExperimentPermission,
            ExperimentPermission.experiment,
            experiment_id,
            user_id,
            permission,
        )


def delete_experiment_permission(experiment_id: int, user_id: int) -> None:
    """Remove a user's grant on an experiment.

    Raises:
        NotFound: there was none.
    """
    with write_transaction():
        deleted = (
            ExperimentPermission.delete()
            .where(
                ExperimentPermission.experiment == experiment_id,
                ExperimentPermission.user == user_id,
            )
            .execute()
        )
    if not deleted:
        raise NotFound(f"No permission on experiment {experiment_id} for user id {user_id}")


def set_model_permission(model_name: str, user_id: int, permission: str) -> None:
    """Grant (or change) a user's level on a registered model.

    Raises:
        NotFound: no such model.
    """
    model_id = _model_id(model_name)
    with write_transaction():
        _upsert(
            RegisteredModelPermission,
            RegisteredModelPermission.registered_model,
            model_id,
            user_id,
            permission,
        )


def delete_model_permission(model_name: str, user_id: int) -> None:
    """Remove a user's grant on a registered model.

    Raises:
        NotFound: there was none.
    """
    model_id = _model_id(model_name)
    with write_transaction():
        deleted = (
            RegisteredModelPermission.delete()
            .where(
                RegisteredModelPermission.registered_model == model_id,
                RegisteredModelPermission.user == user_id,
            )
            .execute()
        )
    if not deleted:
        raise NotFound(f"No permission on registered model {model_name!r} for user id {user_id}")


def permissions_of(user_id: int) -> tuple[list[ExperimentPermission], list[Any]]:
    """A user's experiment grants, and model grants as rows with ``name`` and ``permission``."""
    experiments = list(ExperimentPermission.select().where(ExperimentPermission.user == user_id))
    models = list(
        RegisteredModelPermission.select(RegisteredModel.name, RegisteredModelPermission.permission)
        .join(RegisteredModel)
        .where(RegisteredModelPermission.user == user_id)
        .dicts()
    )
    return experiments, models


def _upsert(model: Any, owner: Any, owner_id: int, user_id: int, permission: str) -> None:
    row = {owner.name: owner_id, "user": user_id, "permission": permission}
    upsert_rows(model, [row], key=(owner, model.user), update=(model.permission,))


def model_exists(model_name: str) -> bool:
    """Whether a registered model of that name exists."""
    return bool(RegisteredModel.select().where(RegisteredModel.name == model_name).exists())


def _model_id(model_name: str) -> int:
    model_id: int | None = (
        RegisteredModel.select(RegisteredModel.id)
        .where(RegisteredModel.name == model_name)
        .scalar()
    )
    if model_id is None:
        raise NotFound(f"Registered Model with name={model_name} not found")
    return model_id


# --- protected stages and aliases -------------------------------------------------------------


def set_protections(model_name: str, stages: list[str], aliases: list[str]) -> None:
    """Make exactly these stages and aliases of a model movable by MANAGE only.

    Raises:
        NotFound: no such model.
    """
    model_id = _model_id(model_name)
    rows = [{"registered_model": model_id, "kind": "stage", "value": s} for s in set(stages)]
    rows += [{"registered_model": model_id, "kind": "alias", "value": a} for a in set(aliases)]
    with write_transaction():
        ModelProtection.delete().where(ModelProtection.registered_model == model_id).execute()
        if rows:
            ModelProtection.insert_many(rows).execute()


def protections_of(model_name: str) -> dict[str, list[str]]:
    """``{"stages": [...], "aliases": [...]}`` protected on a model (empty lists when none)."""
    found: dict[str, list[str]] = {"stage": [], "alias": []}
    query = (
        ModelProtection.select(ModelProtection.kind, ModelProtection.value)
        .join(RegisteredModel)
        .where(RegisteredModel.name == model_name)
        .order_by(ModelProtection.kind, ModelProtection.value)
    )
    for row in query:
        found[str(row.kind)].append(str(row.value))
    return {"stages": found["stage"], "aliases": found["alias"]}


def target_key(kind: str, value: str) -> str:
    """How a stage or alias name compares with a protected one: as the views will read it.

    Both are trimmed (``normalize_stage`` trims a stage, the UI's form trims an alias); a stage
    compares in any case, as ``normalize_stage`` accepts it, an alias exactly.
    """
    value = value.strip()
    return value.lower() if kind == "stage" else value


def is_protected(kind: str, value: str, protected: Iterable[str]) -> bool:
    """Whether stage or alias ``value`` (as a request spells it) is one of ``protected``."""
    key = target_key(kind, value)
    return bool(key) and any(target_key(kind, p) == key for p in protected)


def version_stage(model_name: str, version: str) -> str | None:
    """The current stage of one version, or None."""
    try:
        number = int(version)
    except (TypeError, ValueError):
        return None
    value: str | None = (
        ModelVersion.select(ModelVersion.current_stage)
        .join(RegisteredModel)
        .where(RegisteredModel.name == model_name, ModelVersion.version == number)
        .scalar()
    )
    return value


# --- which experiment owns an object ----------------------------------------------------------


def experiment_of_run(run_id: str) -> int | None:
    """The experiment id of a run, or None when there is no such run."""
    value: int | None = Run.select(Run.experiment).where(Run.run_uuid == run_id).scalar()
    return value


def experiment_of_logged_model(model_id: str) -> int | None:
    """The experiment id of a logged model, or None."""
    value: int | None = (
        LoggedModel.select(LoggedModel.experiment).where(LoggedModel.model_id == model_id).scalar()
    )
    return value


def experiment_id_by_name(name: str) -> int | None:
    """The id of the experiment named ``name``, or None."""
    value: int | None = (
        Experiment.select(Experiment.experiment_id).where(Experiment.name == name).scalar()
    )
    return value


def experiment_of_artifact_path(path: str) -> int | None:
    """The experiment whose run, logged model or artifact location holds proxy path ``path``.

    None when no run, logged model or experiment of this server owns the path.
    """
    segments = [s for s in path.strip("/").split("/") if s]
    if not segments:
        return None
    candidates = [
        (row.artifact_uri, row.experiment_id)
        for row in Run.select(Run.artifact_uri, Run.experiment).where(
            Run.run_uuid.in_(segments[:8])
        )
    ]
    candidates += [
        (row.artifact_uri, row.experiment_id)
        for row in LoggedModel.select(LoggedModel.artifact_uri, LoggedModel.experiment).where(
            LoggedModel.model_id.in_(segments[:8])
        )
    ]
    candidates += [
        (row.artifact_location, row.experiment_id)
        for row in Experiment.select(Experiment.artifact_location, Experiment.experiment_id).where(
            Experiment.artifact_location == ARTIFACT_SCHEME + segments[0]
        )
    ]
    target = "/".join(segments)
    for uri, experiment_id in candidates:
        root = _proxy_path(uri)
        if root is not None and (target == root or target.startswith(root + "/")):
            return int(experiment_id)
    return None


def _proxy_path(uri: str) -> str | None:
    if not uri.startswith(ARTIFACT_SCHEME):
        return None
    return uri[len(ARTIFACT_SCHEME) :].strip("/")


# --- visibility -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Viewer:
    """Whose rows a search may return: a user id, and whether ungranted objects are readable.

    ``experiment_ids`` / ``model_ids``, when known, are the user's exceptions to the default
    (the ids denied when ungranted objects are readable, else the ids granted), so the search
    filters on a short list instead of a subquery.
    """

    user_id: int
    default_readable: bool
    experiment_ids: tuple[int, ...] | None = None
    model_ids: tuple[int, ...] | None = None


MAX_LISTED_EXCEPTIONS = 500
"""Past this many exceptions a search filters with a subquery instead of a list."""


def exceptions_of(user_id: int, default_readable: bool) -> tuple[tuple[int, ...] | None, ...]:
    """A user's ``(experiment_ids, model_ids)`` exceptions to the default (see ``Viewer``).

    Each is None when there are more than ``MAX_LISTED_EXCEPTIONS``.
    """
    wanted: Any
    if default_readable:
        wanted = ExperimentPermission.permission == "NO_PERMISSIONS"
    else:
        wanted = ExperimentPermission.permission.in_(READABLE)
    experiments = (
        ExperimentPermission.select(ExperimentPermission.experiment)
        .where(ExperimentPermission.user == user_id, wanted)
        .limit(MAX_LISTED_EXCEPTIONS + 1)
    )
    if default_readable:
        wanted = RegisteredModelPermission.permission == "NO_PERMISSIONS"
    else:
        wanted = RegisteredModelPermission.permission.in_(READABLE)
    models = (
        RegisteredModelPermission.select(RegisteredModelPermission.registered_model)
        .where(RegisteredModelPermission.user == user_id, wanted)
        .limit(MAX_LISTED_EXCEPTIONS + 1)
    )
    queries: tuple[Any, ...] = (experiments, models)
    found = ([int(row[0]) for row in query.tuples()] for query in queries)
    return tuple(tuple(ids) if len(ids) <= MAX_LISTED_EXCEPTIONS else None for ids in found)


_viewer: ContextVar[Viewer | None] = ContextVar("registry_viewer", default=None)


@contextmanager
def restrict_to(viewer: Viewer | None) -> Iterator[None]:
    """Searches in this context return only what ``viewer`` may read (None: everything)."""
    token = _viewer.set(viewer)
    try:
        yield
    finally:
        _viewer.reset(token)


def bind_viewer(viewer: Viewer | None) -> Any:
    """Bind ``viewer`` until ``unbind_viewer(token)`` (for request hooks)."""
    return _viewer.set(viewer)


def unbind_viewer(token: Any) -> None:
    """Undo ``bind_viewer``."""
    _viewer.reset(token)


def viewer_restricted() -> bool:
    """Whether a viewer is bound: what the request may read is limited (``--auth``, not admin)."""
    return _viewer.get() is not None


def visible_experiments(column: peewee.Field) -> Any:
    """A condition on an experiment-id column: true for rows the bound viewer may read."""
    viewer = _viewer.get()
    if viewer is None:
        return peewee.SQL("1 = 1")
    if viewer.experiment_ids is not None:
        return _listed(column, viewer.experiment_ids, viewer.default_readable)
    granted = ExperimentPermission.select(ExperimentPermission.experiment).where(
        ExperimentPermission.user == viewer.user_id
    )
    if viewer.default_readable:
        return column.not_in(granted.where(ExperimentPermission.permission == "NO_PERMISSIONS"))
    return column.in_(granted.where(ExperimentPermission.permission.in_(READABLE)))


def visible_models(column: peewee.Field) -> Any:
    """A condition on a registered-model-id column: true for models the bound viewer may read."""
    viewer = _viewer.get()
    if viewer is None:
        return peewee.SQL("1 = 1")
    if viewer.model_ids is not None:
        return _listed(column, viewer.model_ids, viewer.default_readable)
    granted = RegisteredModelPermission.select(RegisteredModelPermission.registered_model).where(
        RegisteredModelPermission.user == viewer.user_id
    )
    if viewer.default_readable:
        return column.not_in(
            granted.where(RegisteredModelPermission.permission == "NO_PERMISSIONS")
        )
    return column.in_(granted.where(RegisteredModelPermission.permission.in_(READABLE)))


def _listed(column: peewee.Field, ids: tuple[int, ...], default_readable: bool) -> Any:
    if default_readable:
        return column.not_in(list(ids)) if ids else peewee.SQL("1 = 1")
    return column.in_(list(ids))
