"""The peewee models: the current schema, bound to ``registry.store.db``.

Migrations (``registry/store/migrations``) create and change the tables; these classes describe
their current shape and are what the query modules use. Times are milliseconds since the epoch.

Metric values: MySQL has no NaN or infinity, so every engine stores a finite ``value`` and a
``value_kind`` (see ``VALUE_KINDS``); infinities are stored as +/- the largest double so that
sorting by value stays right.
"""

from __future__ import annotations

import peewee as pw

from registry.store import db

VALUE_FINITE, VALUE_NAN, VALUE_POS_INF, VALUE_NEG_INF = 0, 1, 2, 3
VALUE_KINDS = (VALUE_FINITE, VALUE_NAN, VALUE_POS_INF, VALUE_NEG_INF)

ACTIVE = "active"
DELETED = "deleted"


class BaseModel(pw.Model):
    class Meta:
        database = db
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

    experiment_id: int  # foreign-key id accessor peewee adds; declared for the type checker

    class Meta:
        table_name = "experiment_tags"
        primary_key = pw.CompositeKey("experiment", "key")


class Run(BaseModel):
    run_uuid = pw.CharField(max_length=32, primary_key=True)
    # Not indexed alone: the (experiment, lifecycle_stage, start_time) index leads with it
    # (migration 15).
    experiment = pw.ForeignKeyField(Experiment, backref="runs", on_delete="CASCADE", index=False)
    name = pw.CharField(max_length=250, default="")
    user_id = pw.CharField(max_length=256, default="")
    status = pw.CharField(max_length=20, default="RUNNING")
    start_time = pw.BigIntegerField(null=True)
    end_time = pw.BigIntegerField(null=True)
    lifecycle_stage = pw.CharField(max_length=32, default=ACTIVE)
    artifact_uri = pw.CharField(max_length=1000)
    deleted_time = pw.BigIntegerField(null=True)

    experiment_id: int  # foreign-key id accessor peewee adds; declared for the type checker

    class Meta:
        table_name = "runs"
        indexes = ((("experiment", "lifecycle_stage", "start_time"), False),)


class Param(BaseModel):
    # Not indexed alone: the primary key leads with it (migration 15).
    run = pw.ForeignKeyField(Run, backref="params", on_delete="CASCADE", index=False)
    key = pw.CharField(max_length=250)
    value = pw.TextField()

    run_id: str  # foreign-key id accessor peewee adds; declared for the type checker

    class Meta:
        table_name = "params"
        primary_key = pw.CompositeKey("run", "key")
        indexes = ((("key", "run"), False),)
        # SQLite also has (key, value, run) from migration 9, which says why only SQLite.


class RunTag(BaseModel):
    # Not indexed alone: the primary key leads with it (migration 15).
    run = pw.ForeignKeyField(Run, backref="tags", on_delete="CASCADE", index=False)
    key = pw.CharField(max_length=250)
    value = pw.TextField()

    run_id: str  # foreign-key id accessor peewee adds; declared for the type checker

    class Meta:
        table_name = "run_tags"
        primary_key = pw.CompositeKey("run", "key")
        indexes = ((("key", "run"), False),)
        # SQLite also has (key, value, run) from migration 9, which says why only SQLite.


class Metric(BaseModel):
    """Metric points stored a row each; an identical point logged twice is stored once.

    All points on SQLite and MySQL; on PostgreSQL all but large batches, which it stores packed
    (``store.metric_batches``). Read histories through ``MetricHistory``. Its view reads this
    table: a migration that changes the table drops the view first and creates it again.
    """

    id = pw.BigAutoField()
    # Not indexed alone: the unique index below leads with it (migration 12).
    run = pw.ForeignKeyField(Run, backref="metric_history", on_delete="CASCADE", index=False)
    key = pw.CharField(max_length=250)
    value = pw.DoubleField()
    value_kind = pw.SmallIntegerField(default=VALUE_FINITE)
    timestamp = pw.BigIntegerField()
    step = pw.BigIntegerField(default=0)
    model_id = pw.CharField(max_length=64, null=True)
    dataset_name = pw.CharField(max_length=500, null=True)
    dataset_digest = pw.CharField(max_length=64, null=True)

    run_id: str  # foreign-key id accessor peewee adds; declared for the type checker

    class Meta:
        table_name = "metrics"
        indexes = (
            (("run", "key", "step", "timestamp", "value", "value_kind"), True),
            (("model_id", "key", "step", "timestamp"), False),
        )


class MetricHistory(BaseModel):
    """Every metric point of a run, each identical point once: the view ``metric_history``.

    Read histories here, not from ``Metric``. On PostgreSQL a large log-batch stores its points
    packed in ``metric_batches`` (migration 17), which only this view unnests; on SQLite and
    MySQL the view is ``metrics`` itself. Points with a model are always rows of ``Metric`` too,
    so lookups by ``model_id`` read that table. Read-only.
    """

    run = pw.ForeignKeyField(Run, backref="+", index=False)
    key = pw.CharField(max_length=250)
    value = pw.DoubleField()
    value_kind = pw.SmallIntegerField()
    timestamp = pw.BigIntegerField()
    step = pw.BigIntegerField()
    model_id = pw.CharField(max_length=64, null=True)
    dataset_name = pw.CharField(max_length=500, null=True)
    dataset_digest = pw.CharField(max_length=64, null=True)

    run_id: str  # foreign-key id accessor peewee adds; declared for the type checker

    class Meta:
        table_name = "metric_history"
        primary_key = False


class LatestMetric(BaseModel):
    """The latest point per (run, key): highest step, then highest timestamp."""

    # Not indexed alone: the primary key leads with it (migration 15).
    run = pw.ForeignKeyField(Run, backref="latest_metrics", on_delete="CASCADE", index=False)
    key = pw.CharField(max_length=250)
    value = pw.DoubleField()
    value_kind = pw.SmallIntegerField(default=VALUE_FINITE)
    timestamp = pw.BigIntegerField()
    step = pw.BigIntegerField(default=0)
    experiment_id = pw.IntegerField()
    """The run's experiment (migration 14): a search of one experiment reads its own rows."""

    run_id: str  # foreign-key id accessor peewee adds; declared for the type checker

    class Meta:
        table_name = "latest_metrics"
        primary_key = pw.CompositeKey("run", "key")
        indexes = (
            (("key", "value", "run"), False),
            (("experiment_id", "key", "value", "run"), False),
        )


class MetricPreview(BaseModel):
    """A run's history of one key downsampled for a small chart (``store.metric_previews``).

    ``size`` is how many stored points it was drawn from: points are only ever added, so the
    preview is current exactly while the run still has that many points of the key.
    """

    run = pw.ForeignKeyField(Run, on_delete="CASCADE", index=False)
    key = pw.CharField(max_length=250)
    points = pw.IntegerField()
    timed = pw.BooleanField()
    size = pw.BigIntegerField()
    body = pw.TextField()

    run_id: str  # foreign-key id accessor peewee adds; declared for the type checker

    class Meta:
        table_name = "metric_previews"
        primary_key = pw.CompositeKey("run", "key", "points", "timed")


class Dataset(BaseModel):
    id = pw.AutoField()
    experiment = pw.ForeignKeyField(Experiment, backref="datasets", on_delete="CASCADE")
    name = pw.CharField(max_length=500)
    digest = pw.CharField(max_length=64)
    source_type = pw.CharField(max_length=64)
    source = pw.TextField()
    schema = pw.TextField(null=True)
    profile = pw.TextField(null=True)

    experiment_id: int  # foreign-key id accessor peewee adds; declared for the type checker

    class Meta:
        table_name = "datasets"
        indexes = ((("experiment", "name", "digest"), True),)


class RunInput(BaseModel):
    """A dataset used by a run, with its input tags (e.g. ``mlflow.data.context``) as JSON."""

    id = pw.AutoField()
    run = pw.ForeignKeyField(Run, backref="dataset_inputs", on_delete="CASCADE")
    dataset = pw.ForeignKeyField(Dataset, backref="inputs", on_delete="CASCADE")
    tags_json = pw.TextField(default="[]")

    run_id: str  # foreign-key id accessor peewee adds; declared for the type checker
    dataset_id: int  # foreign-key id accessor peewee adds; declared for the type checker

    class Meta:
        table_name = "run_inputs"
        indexes = ((("run", "dataset"), True),)


class RunModelInput(BaseModel):
    run = pw.ForeignKeyField(Run, backref="model_inputs", on_delete="CASCADE")
    model_id = pw.CharField(max_length=64)

    run_id: str  # foreign-key id accessor peewee adds; declared for the type checker

    class Meta:
        table_name = "run_model_inputs"
        primary_key = pw.CompositeKey("run", "model_id")


class RunModelOutput(BaseModel):
    run = pw.ForeignKeyField(Run, backref="model_outputs", on_delete="CASCADE")
    model_id = pw.CharField(max_length=64)
    step = pw.BigIntegerField(default=0)

    run_id: str  # foreign-key id accessor peewee adds; declared for the type checker

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

    experiment_id: int  # foreign-key id accessor peewee adds; declared for the type checker

    class Meta:
        table_name = "logged_models"
        indexes = ((("experiment", "name"), False),)


class LoggedModelTag(BaseModel):
    model = pw.ForeignKeyField(LoggedModel, backref="tags", on_delete="CASCADE")
    key = pw.CharField(max_length=250)
    value = pw.TextField()

    model_id: str  # foreign-key id accessor peewee adds; declared for the type checker

    class Meta:
        table_name = "logged_model_tags"
        primary_key = pw.CompositeKey("model", "key")


class LoggedModelParam(BaseModel):
    model = pw.ForeignKeyField(LoggedModel, backref="params", on_delete="CASCADE")
    key = pw.CharField(max_length=250)
    value = pw.TextField()

    model_id: str  # foreign-key id accessor peewee adds; declared for the type checker

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
    """When true, at most one version holds Production and at most one Staging."""

    class Meta:
        table_name = "registered_models"


class RegisteredModelTag(BaseModel):
    registered_model = pw.ForeignKeyField(RegisteredModel, backref="tags", on_delete="CASCADE")
    key = pw.CharField(max_length=250)
    value = pw.TextField()

    registered_model_id: int  # foreign-key id accessor peewee adds; declared for the type checker

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
    model_digest = pw.CharField(max_length=80, null=True)
    """``sha256:<hex>`` of the version's whole model directory, computed by the server at
    registration (migration 3); NULL when there were no files or before migration 3."""

    registered_model_id: int  # foreign-key id accessor peewee adds; declared for the type checker

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

    model_version_id: int  # foreign-key id accessor peewee adds; declared for the type checker

    class Meta:
        table_name = "model_version_tags"
        primary_key = pw.CompositeKey("model_version", "key")


class RegisteredModelAlias(BaseModel):
    registered_model = pw.ForeignKeyField(RegisteredModel, backref="aliases", on_delete="CASCADE")
    alias_name = pw.CharField(max_length=256, column_name="alias")
    version = pw.IntegerField()

    registered_model_id: int  # foreign-key id accessor peewee adds; declared for the type checker

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

    registered_model_id: int  # foreign-key id accessor peewee adds; declared for the type checker

    class Meta:
        table_name = "transitions"
        indexes = ((("registered_model", "timestamp"), False),)


ALL_MODELS: tuple[type[BaseModel], ...] = (
    SchemaVersion,
    Experiment,
    ExperimentTag,
    Run,
    Param,
    RunTag,
    Metric,
    LatestMetric,
    MetricPreview,
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
