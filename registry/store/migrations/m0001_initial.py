"""Migration 1: the initial schema and the built-in Default experiment (id 0).

The model classes below are a frozen copy of ``registry/store/models.py`` as it stood when this
migration was written (peewee's rule for migrations): later changes to the live models must
never change what this script creates. The tables are made and dropped with peewee's
``create_tables``/``drop_tables`` (``playhouse.migrate`` has no create-table operation); the one
raw statement is MySQL's session setting that lets the Default experiment keep id 0.
"""

from __future__ import annotations

import time

import peewee as pw

_proxy = pw.DatabaseProxy()

VALUE_FINITE, VALUE_NAN, VALUE_POS_INF, VALUE_NEG_INF = 0, 1, 2, 3
VALUE_KINDS = (VALUE_FINITE, VALUE_NAN, VALUE_POS_INF, VALUE_NEG_INF)

ACTIVE = "active"
DELETED = "deleted"


class BaseModel(pw.Model):
    class Meta:
        database = _proxy
        legacy_table_names = False


class SchemaVersion(BaseModel):
    """One row per applied migration."""

    version = pw.IntegerField(primary_key=True)
    name = pw.CharField(max_length=200)
    applied_at = pw.BigIntegerField()

    class Meta:
        table_name = "schema_versions"


# --- tracking ---------------------------------------------------------------------------------


class Experiment(BaseModel):
    experiment_id = pw.AutoField()
    name = pw.CharField(max_length=256, unique=True)
    artifact_location = pw.CharField(max_length=1000)
    lifecycle_stage = pw.CharField(max_length=32, default=ACTIVE, index=True)
    creation_time = pw.BigIntegerField()
    last_update_time = pw.BigIntegerField()
    deleted_time = pw.BigIntegerField(null=True)

    class Meta:
        table_name = "experiments"


class ExperimentTag(BaseModel):
    experiment = pw.ForeignKeyField(Experiment, backref="tags", on_delete="CASCADE")
    key = pw.CharField(max_length=250)
    value = pw.TextField()

    class Meta:
        table_name = "experiment_tags"
        primary_key = pw.CompositeKey("experiment", "key")


class Run(BaseModel):
    run_uuid = pw.CharField(max_length=32, primary_key=True)
    experiment = pw.ForeignKeyField(Experiment, backref="runs", on_delete="CASCADE")
    name = pw.CharField(max_length=250, default="")
    user_id = pw.CharField(max_length=256, default="")
    status = pw.CharField(max_length=20, default="RUNNING")
    start_time = pw.BigIntegerField(null=True)
    end_time = pw.BigIntegerField(null=True)
    lifecycle_stage = pw.CharField(max_length=32, default=ACTIVE)
    artifact_uri = pw.CharField(max_length=1000)
    deleted_time = pw.BigIntegerField(null=True)

    class Meta:
        table_name = "runs"
        indexes = ((("experiment", "lifecycle_stage", "start_time"), False),)


class Param(BaseModel):
    run = pw.ForeignKeyField(Run, backref="params", on_delete="CASCADE")
    key = pw.CharField(max_length=250)
    value = pw.TextField()

    class Meta:
        table_name = "params"
        primary_key = pw.CompositeKey("run", "key")
        indexes = ((("key", "run"), False),)


class RunTag(BaseModel):
    run = pw.ForeignKeyField(Run, backref="tags", on_delete="CASCADE")
    key = pw.CharField(max_length=250)
    value = pw.TextField()

    class Meta:
        table_name = "run_tags"
        primary_key = pw.CompositeKey("run", "key")
        indexes = ((("key", "run"), False),)


class Metric(BaseModel):
    """Append-only metric history; an identical point logged twice is stored once."""

    id = pw.BigAutoField()
    run = pw.ForeignKeyField(Run, backref="metric_history", on_delete="CASCADE")
    key = pw.CharField(max_length=250)
    value = pw.DoubleField()
    value_kind = pw.SmallIntegerField(default=VALUE_FINITE)
    timestamp = pw.BigIntegerField()
    step = pw.BigIntegerField(default=0)
    model_id = pw.CharField(max_length=64, null=True, index=True)
    dataset_name = pw.CharField(max_length=500, null=True)
    dataset_digest = pw.CharField(max_length=64, null=True)

    class Meta:
        table_name = "metrics"
        indexes = ((("run", "key", "step", "timestamp", "value", "value_kind"), True),)


class LatestMetric(BaseModel):
    """The latest point per (run, key): highest step, then highest timestamp."""

    run = pw.ForeignKeyField(Run, backref="latest_metrics", on_delete="CASCADE")
    key = pw.CharField(max_length=250)
    value = pw.DoubleField()
    value_kind = pw.SmallIntegerField(default=VALUE_FINITE)
    timestamp = pw.BigIntegerField()
    step = pw.BigIntegerField(default=0)

    class Meta:
        table_name = "latest_metrics"
        primary_key = pw.CompositeKey("run", "key")
        indexes = ((("key", "value", "run"), False),)


class Dataset(BaseModel):
    id = pw.AutoField()
    experiment = pw.ForeignKeyField(Experiment, backref="datasets", on_delete="CASCADE")
    name = pw.CharField(max_length=500)
    digest = pw.CharField(max_length=64)
    source_type = pw.CharField(max_length=64)
    source = pw.TextField()
    schema = pw.TextField(null=True)
    profile = pw.TextField(null=True)

    class Meta:
        table_name = "datasets"
        indexes = ((("experiment", "name", "digest"), True),)


class RunInput(BaseModel):
    """A dataset used by a run, with its input tags (e.g. ``mlflow.data.context``) as JSON."""

    id = pw.AutoField()
    run = pw.ForeignKeyField(Run, backref="dataset_inputs", on_delete="CASCADE")
    dataset = pw.ForeignKeyField(Dataset, backref="inputs", on_delete="CASCADE")
    tags_json = pw.TextField(default="[]")

    class Meta:
        table_name = "run_inputs"
        indexes = ((("run", "dataset"), True),)


class RunModelInput(BaseModel):
    run = pw.ForeignKeyField(Run, backref="model_inputs", on_delete="CASCADE")
    model_id = pw.CharField(max_length=64)

    class Meta:
        table_name = "run_model_inputs"
        primary_key = pw.CompositeKey("run", "model_id")


class RunModelOutput(BaseModel):
    run = pw.ForeignKeyField(Run, backref="model_outputs", on_delete="CASCADE")
    model_id = pw.CharField(max_length=64)
    step = pw.BigIntegerField(default=0)

    class Meta:
        table_name = "run_model_outputs"
        primary_key = pw.CompositeKey("run", "model_id")


class LoggedModel(BaseModel):
    """MLflow 3's logged model: files under ``<exp>/models/<model_id>/artifacts``."""

    model_id = pw.CharField(max_length=64, primary_key=True)
    experiment = pw.ForeignKeyField(Experiment, backref="logged_models", on_delete="CASCADE")
    name = pw.CharField(max_length=500)
    model_type = pw.CharField(max_length=500, default="")
    source_run_id = pw.CharField(max_length=32, null=True, index=True)
    status = pw.CharField(max_length=40, default="LOGGED_MODEL_PENDING")
    status_message = pw.TextField(default="")
    artifact_uri = pw.CharField(max_length=1000)
    lifecycle_stage = pw.CharField(max_length=32, default=ACTIVE)
    creation_timestamp_ms = pw.BigIntegerField()
    last_updated_timestamp_ms = pw.BigIntegerField()

    class Meta:
        table_name = "logged_models"
        indexes = ((("experiment", "name"), False),)


class LoggedModelTag(BaseModel):
    model = pw.ForeignKeyField(LoggedModel, backref="tags", on_delete="CASCADE")
    key = pw.CharField(max_length=250)
    value = pw.TextField()

    class Meta:
        table_name = "logged_model_tags"
        primary_key = pw.CompositeKey("model", "key")


class LoggedModelParam(BaseModel):
    model = pw.ForeignKeyField(LoggedModel, backref="params", on_delete="CASCADE")
    key = pw.CharField(max_length=250)
    value = pw.TextField()

    class Meta:
        table_name = "logged_model_params"
        primary_key = pw.CompositeKey("model", "key")


# --- registry ---------------------------------------------------------------------------------


class RegisteredModel(BaseModel):
    id = pw.AutoField()
    name = pw.CharField(max_length=256, unique=True)
    description = pw.TextField(default="")
    user_id = pw.CharField(max_length=256, default="")
    creation_timestamp = pw.BigIntegerField()
    last_updated_timestamp = pw.BigIntegerField()
    exclusive_stages = pw.BooleanField(default=False)

    class Meta:
        table_name = "registered_models"


class RegisteredModelTag(BaseModel):
    registered_model = pw.ForeignKeyField(RegisteredModel, backref="tags", on_delete="CASCADE")
    key = pw.CharField(max_length=250)
    value = pw.TextField()

    class Meta:
        table_name = "registered_model_tags"
        primary_key = pw.CompositeKey("registered_model", "key")


class ModelVersion(BaseModel):
    id = pw.AutoField()
    registered_model = pw.ForeignKeyField(RegisteredModel, backref="versions", on_delete="CASCADE")
    version = pw.IntegerField()
    description = pw.TextField(default="")
    user_id = pw.CharField(max_length=256, default="")
    creation_timestamp = pw.BigIntegerField()
    last_updated_timestamp = pw.BigIntegerField()
    current_stage = pw.CharField(max_length=20, default="None")
    exclusive_stage = pw.CharField(max_length=20, null=True)
    """Equals current_stage while the model is exclusive and the stage is Staging or
    Production, else NULL: the unique index on (model, exclusive_stage) is the one-holder rule,
    portable to every engine (NULLs never collide)."""
    source = pw.CharField(max_length=1000)
    run_id = pw.CharField(max_length=32, null=True, index=True)
    run_link = pw.CharField(max_length=1000, default="")
    model_id = pw.CharField(max_length=64, null=True)
    status = pw.CharField(max_length=32, default="READY")
    status_message = pw.TextField(default="")

    class Meta:
        table_name = "model_versions"
        indexes = (
            (("registered_model", "version"), True),
            (("registered_model", "exclusive_stage"), True),
        )


class ModelVersionTag(BaseModel):
    model_version = pw.ForeignKeyField(ModelVersion, backref="tags", on_delete="CASCADE")
    key = pw.CharField(max_length=250)
    value = pw.TextField()

    class Meta:
        table_name = "model_version_tags"
        primary_key = pw.CompositeKey("model_version", "key")


class RegisteredModelAlias(BaseModel):
    registered_model = pw.ForeignKeyField(RegisteredModel, backref="aliases", on_delete="CASCADE")
    alias_name = pw.CharField(max_length=256, column_name="alias")
    version = pw.IntegerField()

    class Meta:
        table_name = "registered_model_aliases"
        primary_key = pw.CompositeKey("registered_model", "alias_name")


class Transition(BaseModel):
    """Append-only history of every stage change and alias move (ours; MLflow has none).

    ``kind`` is ``stage`` or ``alias``. For a stage change ``from_value``/``to_value`` are stages;
    for an alias move ``alias_name`` names it and the values are the versions it left and reached
    (empty when it was created or deleted). ``rollback_of`` points at the entry a rollback undid.
    """

    id = pw.BigAutoField()
    registered_model = pw.ForeignKeyField(
        RegisteredModel, backref="transitions", on_delete="CASCADE"
    )
    version = pw.IntegerField(null=True)
    kind = pw.CharField(max_length=16)
    alias_name = pw.CharField(max_length=256, null=True, column_name="alias")
    from_value = pw.CharField(max_length=256, default="")
    to_value = pw.CharField(max_length=256, default="")
    user_id = pw.CharField(max_length=256, default="")
    timestamp = pw.BigIntegerField()
    comment = pw.TextField(default="")
    rollback_of = pw.BigIntegerField(null=True)

    class Meta:
        table_name = "transitions"
        indexes = ((("registered_model", "timestamp"), False),)


FROZEN = (
    SchemaVersion,
    Experiment,
    ExperimentTag,
    Run,
    Param,
    RunTag,
    Metric,
    LatestMetric,
    Dataset,
    RunInput,
    RunModelInput,
    RunModelOutput,
    LoggedModel,
    LoggedModelTag,
    LoggedModelParam,
    RegisteredModel,
    RegisteredModelTag,
    ModelVersion,
    ModelVersionTag,
    RegisteredModelAlias,
    Transition,
)


def up(database: pw.Database) -> None:
    """Create every table and the Default experiment."""
    _proxy.initialize(database)
    database.create_tables(FROZEN, safe=True)
    if Experiment.select().where(Experiment.experiment_id == 0).exists():
        return
    if isinstance(database, pw.MySQLDatabase):
        # MySQL reads an explicit 0 in an auto-increment column as "next value" unless told not to.
        database.execute_sql("SET SESSION sql_mode = CONCAT(@@sql_mode, ',NO_AUTO_VALUE_ON_ZERO')")
    now = int(time.time() * 1000)
    Experiment.insert(
        experiment_id=0,
        name="Default",
        artifact_location="mlflow-artifacts:/0",
        lifecycle_stage=ACTIVE,
        creation_time=now,
        last_update_time=now,
    ).execute()


def down(database: pw.Database) -> None:
    """Drop every table."""
    _proxy.initialize(database)
    database.drop_tables(FROZEN, safe=True, cascade=isinstance(database, pw.PostgresqlDatabase))
