"""Search queries for experiments, logged models, registered models and model versions."""

from __future__ import annotations

from collections.abc import Iterator

import peewee
import pytest

from registry.errors import InvalidParameter
from registry.store import open_database
from registry.store.filters import (
    search_experiments_query,
    search_logged_models_query,
    search_model_versions_query,
    search_registered_models_query,
)
from registry.store.models import (
    VALUE_FINITE,
    VALUE_NAN,
    Experiment,
    ExperimentTag,
    LoggedModel,
    LoggedModelParam,
    LoggedModelTag,
    Metric,
    ModelVersion,
    ModelVersionTag,
    RegisteredModel,
    RegisteredModelTag,
    Run,
)

PROMPT_CLAUSE = "tag.`mlflow.prompt.is_prompt` != 'true'"


@pytest.fixture
def database(db_url: str) -> Iterator[peewee.Database]:
    database = open_database(db_url)
    with database.connection_context():
        yield database
    close_all = getattr(database, "close_all", None)
    if close_all is not None:
        close_all()


def make_model(name: str, created: int, tags: dict[str, str] | None = None) -> RegisteredModel:
    model = RegisteredModel.create(
        name=name, creation_timestamp=created, last_updated_timestamp=created * 10
    )
    for key, value in (tags or {}).items():
        RegisteredModelTag.create(registered_model=model, key=key, value=value)
    return model


def make_version(
    model: RegisteredModel, version: int, updated: int, **fields: object
) -> ModelVersion:
    tags: dict[str, str] = fields.pop("tags", {})  # type: ignore[assignment]
    row = ModelVersion.create(
        registered_model=model,
        version=version,
        creation_timestamp=updated,
        last_updated_timestamp=updated,
        source=f"models:/m-{model.name}-{version}",
        **fields,
    )
    for key, value in tags.items():
        ModelVersionTag.create(model_version=row, key=key, value=value)
    return row


def test_registered_models(database: peewee.Database) -> None:
    make_model("nyc-taxi", 3, {"owner": "me"})
    make_model("Prompt", 1, {"mlflow.prompt.is_prompt": "true"})
    make_model("iris", 2, {"mlflow.prompt.is_prompt": "false", "owner": "you"})

    def names(filter_string: str | None, order_by: list[str] | None = None) -> list[str]:
        query = search_registered_models_query(filter_string, order_by)
        return [model.name for model in query]

    assert names(None) == ["Prompt", "iris", "nyc-taxi"]
    # the clause the official client appends matches models without the tag
    assert names(PROMPT_CLAUSE) == ["iris", "nyc-taxi"]
    assert names(f"name = 'nyc-taxi' AND {PROMPT_CLAUSE}") == ["nyc-taxi"]
    assert names("tags.owner = 'me'") == ["nyc-taxi"]
    assert names("tags.owner != 'me'") == ["Prompt", "iris"]
    assert names("name LIKE 'p%'") == []
    assert names("name ILIKE 'p%'") == ["Prompt"]
    assert names("name IN ('iris', 'nope') OR tags.owner = 'me'") == ["iris", "nyc-taxi"]
    assert names(None, ["creation_timestamp DESC"]) == ["nyc-taxi", "iris", "Prompt"]
    assert names(None, ["last_updated_timestamp"]) == ["Prompt", "iris", "nyc-taxi"]
    with pytest.raises(InvalidParameter, match="Invalid attribute key 'foo'"):
        names("foo = 'x'")
    with pytest.raises(InvalidParameter, match="Invalid ordering key"):
        names(None, ["version_number"])


def test_model_versions(database: peewee.Database) -> None:
    taxi = make_model("nyc-taxi", 1)
    iris = make_model("iris", 2)
    make_version(taxi, 1, 10, run_id="r1", tags={"validation_status": "pending"})
    make_version(taxi, 2, 30, current_stage="Production", tags={"validation_status": "ok"})
    make_version(iris, 1, 30, run_id="r3", tags={"mlflow.prompt.is_prompt": "true"})

    def versions(filter_string: str | None, order_by: list[str] | None = None) -> list[str]:
        query = search_model_versions_query(filter_string, order_by)
        return [f"{row.registered_model.name}/{row.version}" for row in query]

    # default: last_updated_timestamp DESC, name ASC, version DESC
    assert versions(None) == ["iris/1", "nyc-taxi/2", "nyc-taxi/1"]
    assert versions(PROMPT_CLAUSE) == ["nyc-taxi/2", "nyc-taxi/1"]
    assert versions("name='nyc-taxi' AND tags.validation_status='pending'") == ["nyc-taxi/1"]
    assert versions("version_number > 1") == ["nyc-taxi/2"]
    assert versions("run_id IN ('r1', 'r3')") == ["iris/1", "nyc-taxi/1"]
    assert versions("run_id IS NULL") == ["nyc-taxi/2"]
    assert versions("current_stage = 'Production'") == ["nyc-taxi/2"]
    assert versions("source_path LIKE 'models:/m-iris-%'") == ["iris/1"]
    assert versions(None, ["version_number ASC", "name DESC"]) == [
        "nyc-taxi/1",
        "iris/1",
        "nyc-taxi/2",
    ]
    with pytest.raises(InvalidParameter, match="Expected numeric value"):
        versions("version_number = '1'")


def test_experiments(database: peewee.Database) -> None:
    Experiment.delete().execute()  # the migration's own Default experiment
    first = Experiment.create(
        name="Default", artifact_location="a", creation_time=1, last_update_time=5
    )
    second = Experiment.create(
        name="nyc-taxi-experiment", artifact_location="b", creation_time=2, last_update_time=2
    )
    Experiment.create(
        name="old",
        artifact_location="c",
        creation_time=3,
        last_update_time=3,
        lifecycle_stage="deleted",
    )
    ExperimentTag.create(experiment=second, key="team", value="ml")

    def names(
        filter_string: str | None, order_by: list[str] | None = None, view: str = "ACTIVE_ONLY"
    ) -> list[str]:
        return [row.name for row in search_experiments_query(filter_string, order_by, view)]

    assert names(None) == ["nyc-taxi-experiment", "Default"]
    assert names(None, view="ALL") == ["old", "nyc-taxi-experiment", "Default"]
    assert names(None, view="DELETED_ONLY") == ["old"]
    assert names("name ILIKE '%EXP%'") == ["nyc-taxi-experiment"]
    assert names("name LIKE '%EXP%'") == []
    assert names("tags.team = 'ml'") == ["nyc-taxi-experiment"]
    assert names("tags.team IS NULL") == ["Default"]
    assert names(f"experiment_id = '{first.experiment_id}'") == ["Default"]
    assert names("creation_time >= 1 AND last_update_time > 2") == ["Default"]
    assert names(None, ["last_update_time DESC"]) == ["Default", "nyc-taxi-experiment"]
    assert names(None, ["name"]) == ["Default", "nyc-taxi-experiment"]


def test_logged_models(database: peewee.Database) -> None:
    exp = Experiment.create(name="e", artifact_location="a", creation_time=1, last_update_time=1)
    run = Run.create(run_uuid="r1", experiment=exp, artifact_uri="a", start_time=0)
    rows = {}
    for number, name in enumerate(["m-a", "m-b", "m-c"]):
        rows[name] = LoggedModel.create(
            model_id=f"id-{name}",
            experiment=exp,
            name=name,
            source_run_id="r1" if name != "m-c" else None,
            artifact_uri="a",
            creation_timestamp_ms=number,
            last_updated_timestamp_ms=number,
        )
    LoggedModelParam.create(model=rows["m-a"], key="alpha", value="0.1")
    LoggedModelTag.create(model=rows["m-b"], key="flavor", value="sklearn")
    points = [  # (model, value, kind, step, dataset): the latest per key is the highest step
        ("m-a", 0.5, VALUE_FINITE, 0, None),
        ("m-a", 0.9, VALUE_FINITE, 1, None),
        ("m-a", 0.1, VALUE_FINITE, 0, "eval"),
        ("m-b", 0.7, VALUE_FINITE, 0, "eval"),
        ("m-c", 0.0, VALUE_NAN, 0, None),
    ]
    for name, value, kind, step, dataset in points:
        Metric.create(
            run=run,
            key="acc",
            value=value,
            value_kind=kind,
            timestamp=step,
            step=step,
            model_id=f"id-{name}",
            dataset_name=dataset,
        )
    LoggedModel.create(
        model_id="id-gone",
        experiment=exp,
        name="gone",
        artifact_uri="a",
        creation_timestamp_ms=9,
        last_updated_timestamp_ms=9,
        lifecycle_stage="deleted",
    )

    def names(
        filter_string: str | None, order_by: list[dict[str, object]] | None = None
    ) -> list[str]:
        query = search_logged_models_query([exp.experiment_id], filter_string, order_by)
        return [row.name for row in query]

    assert names(None) == ["m-c", "m-b", "m-a"]  # creation_timestamp_ms DESC
    assert names("name = 'm-a'") == ["m-a"]
    assert names("metrics.acc > 0.8") == ["m-a"]
    assert names("metrics.acc < 0.8") == ["m-b"]  # m-a's latest is 0.9; NaN never matches
    assert names("params.alpha = '0.1'") == ["m-a"]
    assert names("tags.flavor != 'sklearn' OR tags.flavor IS NULL") == ["m-c", "m-a"]
    assert names("source_run_id IS NULL") == ["m-c"]
    assert names("creation_time >= 1") == ["m-c", "m-b"]
    by_acc = [{"field_name": "metrics.acc", "ascending": False}]
    assert names(None, by_acc) == ["m-a", "m-b", "m-c"]
    by_eval = [{"field_name": "metrics.acc", "ascending": True, "dataset_name": "eval"}]
    assert names(None, by_eval) == ["m-a", "m-b", "m-c"]
    assert names(None, [{"field_name": "name", "ascending": False}]) == ["m-c", "m-b", "m-a"]
