"""The store's visibility filters, by subquery and by listed exceptions, on every engine."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from registry.store import auth as store
from registry.store import open_database, permissions, use_database
from registry.store.experiments import create_experiment, search_experiments
from registry.store.registered_models import create_registered_model
from registry.store.registry_search import search_registered_models


@pytest.fixture
def bound(db_url: str) -> Iterator[None]:
    database = open_database(db_url)
    with use_database(database):
        yield
    close_all = getattr(database, "close_all", None)
    if close_all is not None:
        close_all()


def _names(viewer: permissions.Viewer) -> list[str]:
    with permissions.restrict_to(viewer):
        experiments, _ = search_experiments(None, ["name ASC"], "ACTIVE_ONLY", 100, None)
        models, _ = search_registered_models("", ["name ASC"], 100, "")
    return [r.experiment.name for r in experiments] + [m.name for m in models]


def test_granted_and_denied_objects_by_subquery_and_by_list(bound: None) -> None:
    user = store.create_user("ana", None)
    for name in ("a", "b", "c"):
        create_experiment(name)
        create_registered_model(name)
    a = permissions.experiment_id_by_name("a")
    assert a is not None
    permissions.set_experiment_permission(a, int(user.id), "READ")
    permissions.set_model_permission("b", int(user.id), "NO_PERMISSIONS")
    permissions.set_model_permission("c", int(user.id), "EDIT")
    for readable, expected in (
        (False, ["a", "c"]),
        (True, ["Default", "a", "b", "c", "a", "c"]),
    ):
        by_subquery = permissions.Viewer(int(user.id), readable)
        listed = permissions.exceptions_of(int(user.id), readable)
        by_list = permissions.Viewer(int(user.id), readable, listed[0], listed[1])
        assert _names(by_subquery) == expected
        assert _names(by_list) == expected
