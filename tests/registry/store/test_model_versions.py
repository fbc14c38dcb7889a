from __future__ import annotations

import threading

import peewee
import pytest

from registry.config import Config
from registry.services.stages import transition_stage
from registry.services.versions import register_version
from registry.store import db
from registry.store.model_versions import create_model_version, set_version_stage
from registry.store.models import ModelVersion
from registry.store.registered_models import create_registered_model, now_ms


def test_the_database_refuses_two_exclusive_holders(app):
    model = create_registered_model("m", exclusive_stages=True)
    first = create_model_version(model, source="runs:/abc/model")
    second = create_model_version(model, source="runs:/abc/model")
    set_version_stage(first, "Production", exclusive=True, now=now_ms())
    with pytest.raises(peewee.IntegrityError), db.atomic():
        set_version_stage(second, "Production", exclusive=True, now=now_ms())
    # Non-exclusive models may hold a stage several times (MLflow's behaviour).
    other = create_registered_model("n")
    for _ in range(2):
        version = create_model_version(other, source="runs:/abc/model")
        set_version_stage(version, "Production", exclusive=False, now=now_ms())


def test_concurrent_sqlite_writers_number_without_gaps(sqlite_app):
    create_registered_model("m", exclusive_stages=True)
    config = Config(artifact_root="/tmp/unused")
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            with db.connection_context():
                for _ in range(5):
                    version = register_version("m", "runs:/abc/model", config)
                    transition_stage("m", version.version, "Production")
        except BaseException as err:
            errors.append(err)

    threads = [threading.Thread(target=writer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    numbers = sorted(v.version for v in ModelVersion.select())
    assert numbers == list(range(1, 41))
    holders = ModelVersion.select().where(ModelVersion.current_stage == "Production").count()
    assert holders == 1
