from __future__ import annotations

import pytest

from registry.errors import AlreadyExists, NotFound
from registry.services.aliases import set_alias
from registry.services.stages import transition_stage
from registry.store import registered_models as store
from registry.store.model_versions import create_model_version
from registry.store.models import ModelVersion, RegisteredModelAlias, Transition


def test_delete_removes_versions_aliases_and_history(app):
    model = store.create_registered_model("m", tags=[("k", "v")])
    create_model_version(model, source="runs:/abc/model")
    set_alias("m", "champion", 1)
    transition_stage("m", 1, "Production")
    store.delete_registered_model("m")
    with pytest.raises(NotFound):
        store.get_registered_model("m")
    assert ModelVersion.select().count() == 0
    assert RegisteredModelAlias.select().count() == 0
    assert Transition.select().count() == 0


def test_duplicate_create_and_rename_raise_already_exists(app):
    store.create_registered_model("a")
    store.create_registered_model("b")
    with pytest.raises(AlreadyExists):
        store.create_registered_model("a")
    with pytest.raises(AlreadyExists):
        store.rename_registered_model("b", "a")
    assert store.get_registered_model("b").name == "b"


def test_tags_overwrite_and_missing_tag(sqlite_app):
    store.create_registered_model("m")
    store.set_registered_model_tag("m", "k", "1")
    store.set_registered_model_tag("m", "k", "2")
    model = store.get_registered_model("m")
    assert [(t.key, t.value) for t in store.tags_by_model([model.id])[model.id]] == [("k", "2")]
    with pytest.raises(NotFound):
        store.delete_registered_model_tag("m", "other")
