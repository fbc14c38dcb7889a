"""MLflow's SQL schema, the part an import reads, as unbound peewee models.

The models are bound to the source database only while it is read (``Database.bind_ctx``).
Queries always name their columns, because a column added by a later MLflow migration
(``workspace``, ``inputs.step``) may be missing from an older database.
"""

from __future__ import annotations

import peewee as pw

SUPPORTED_REVISIONS: tuple[tuple[str, str], ...] = (
    ("7f2a7d5fae7d", "add_datasets_inputs_input_tags_tables"),
    ("2d6e25af4d3e", "increase_max_param_val_length"),
    ("acf3f17fdcc7", "add_storage_location_field_to_model_"),
    ("867495a8f9d4", "add_trace_tables"),
    ("5b0e9adcef9c", "add_cascade_deletion_to_trace_tables_fk"),
    ("4465047574b1", "increase_max_dataset_schema_size"),
    ("f5a4f2784254", "increase_run_tag_value_limit"),
    ("0584bdc529eb", "add_cascading_deletion_to_datasets_from_experiments"),
    ("400f98739977", "add_logged_model_tables"),
    ("6953534de441", "add_step_to_inputs_table"),
    ("bda7b8c39065", "increase_model_version_tag_value_limit"),
    ("cbc13b556ace", "add_v3_trace_schema_columns"),
    ("770bee3ae1dd", "add_assessments_table"),
    ("a1b2c3d4e5f6", "add_spans_table"),
    ("de4033877273", "create_entity_associations"),
    ("1a0cddfcaa16", "add_webhooks_and_webhook_events_tables"),
    ("534353b11cbc", "add_scorer_table"),
    ("71994744cf8e", "add_evaluation_datasets"),
    ("3da73c924c2f", "add_outputs_to_dataset_record"),
    ("bf29a5ff90ea", "add_jobs_table"),
    ("1bd49d398cd23", "add_secrets_tables"),
    ("b7c8d9e0f1a2", "add_trace_metrics_table"),
    ("5d2d30f0abce", "update_job_table"),
    ("c9d4e5f6a7b8", "add_routing_strategy_to_endpoints"),
    ("2c33131f4dae", "add_online_scoring_configs_table"),
    ("d3e4f5a6b7c8", "add_display_name_to_endpoint_bindings"),
    ("d0e1f2a3b4c5", "add_experiment_id_to_endpoints"),
    ("c8d9e0f1a2b3", "add_span_metrics_and_dimension_attributes"),
    ("1b5f0d9ad7c1", "add_workspace_columns_and_catalog"),
    ("e1f2a3b4c5d6", "add_budget_policies_table"),
    ("76601a5f987d", "add_issues_table"),
    ("c3d6457b6d8a", "add_status_details_column_to_jobs_table"),
    ("a5b4c3d2e1f0", "add_metrics_run_key_step_index"),
    ("ae8bbe7743c9", "add_guardrails_tables"),
    ("7d34483879f0", "add_model_version_tags_workspace_index"),
    ("da6fb0208061", "add_workspaces_trace_archival_location"),
    ("89d3d66ed43f", "add_label_schemas_table"),
    ("b7e4c1a90f23", "add_review_queue_tables"),
    ("a8b9c0d1e2f3", "add_mcp_server_registry_tables"),
    ("c1d2e3f4a5b6", "add_span_experiment_start_time_index"),
    ("c3d9e7f1a2b4", "add_target_value_to_budget_policies"),
    ("6f8d9c3b2a1e", "add_experiment_fk_cascades"),
    ("1971f2d9a75b", "add_trace_archival_candidate_index"),
    ("17e22815139b", "increase_experiment_tag_value_limit"),
    ("b7e2c1a4d9f3", "add_jobs_creator"),
    ("75868b020152", "add_sql_trace_analytics_schema"),
    ("dc11669786a5", "add_job_executor_persistence_model"),
)
"""MLflow's alembic revisions we read, oldest first, each with its migration's name: from the
one that added datasets (MLflow 2.4) to the head of MLflow 3.17.2 (the one the tests create).
The tables an import reads are the same across them; newer tables and columns are optional."""


class _Model(pw.Model):
    class Meta:
        database = None


class AlembicVersion(_Model):
    """The ``AlembicVersion`` rows of MLflow's schema."""

    version_num = pw.CharField(primary_key=True)

    class Meta:
        table_name = "alembic_version"


class Experiment(_Model):
    """The ``Experiment`` rows of MLflow's schema."""

    experiment_id = pw.IntegerField(primary_key=True)
    name = pw.CharField()
    artifact_location = pw.CharField(null=True)
    lifecycle_stage = pw.CharField(null=True)
    creation_time = pw.BigIntegerField(null=True)
    last_update_time = pw.BigIntegerField(null=True)
    workspace = pw.CharField()

    class Meta:
        table_name = "experiments"


class ExperimentTag(_Model):
    """The ``ExperimentTag`` rows of MLflow's schema."""

    key = pw.CharField()
    value = pw.TextField(null=True)
    experiment_id = pw.IntegerField()

    class Meta:
        table_name = "experiment_tags"
        primary_key = pw.CompositeKey("key", "experiment_id")


class Run(_Model):
    """The ``Run`` rows of MLflow's schema."""

    run_uuid = pw.CharField(primary_key=True)
    name = pw.CharField(null=True)
    user_id = pw.CharField(null=True)
    status = pw.CharField(null=True)
    start_time = pw.BigIntegerField(null=True)
    end_time = pw.BigIntegerField(null=True)
    deleted_time = pw.BigIntegerField(null=True)
    lifecycle_stage = pw.CharField(null=True)
    artifact_uri = pw.CharField(null=True)
    experiment_id = pw.IntegerField()

    class Meta:
        table_name = "runs"


class _RunKeyValue(_Model):
    """The ``_RunKeyValue`` rows of MLflow's schema."""

    key = pw.CharField()
    value = pw.TextField(null=True)
    run_uuid = pw.CharField()

    class Meta:
        primary_key = pw.CompositeKey("key", "run_uuid")


class Param(_RunKeyValue):
    """The ``Param`` rows of MLflow's schema."""

    class Meta:
        table_name = "params"


class Tag(_RunKeyValue):
    """The ``Tag`` rows of MLflow's schema."""

    class Meta:
        table_name = "tags"


class Metric(_Model):
    """The ``Metric`` rows of MLflow's schema."""

    key = pw.CharField()
    value = pw.DoubleField()
    timestamp = pw.BigIntegerField()
    step = pw.BigIntegerField()
    is_nan = pw.BooleanField()
    run_uuid = pw.CharField()

    class Meta:
        table_name = "metrics"
        primary_key = False


class Dataset(_Model):
    """The ``Dataset`` rows of MLflow's schema."""

    dataset_uuid = pw.CharField()
    experiment_id = pw.IntegerField()
    name = pw.CharField()
    digest = pw.CharField()
    dataset_source_type = pw.CharField()
    dataset_source = pw.TextField()
    dataset_schema = pw.TextField(null=True)
    dataset_profile = pw.TextField(null=True)

    class Meta:
        table_name = "datasets"
        primary_key = False


class Input(_Model):
    """The ``Input`` rows of MLflow's schema."""

    input_uuid = pw.CharField()
    source_type = pw.CharField()
    source_id = pw.CharField()
    destination_type = pw.CharField()
    destination_id = pw.CharField()
    step = pw.BigIntegerField()

    class Meta:
        table_name = "inputs"
        primary_key = False


class InputTag(_Model):
    """The ``InputTag`` rows of MLflow's schema."""

    input_uuid = pw.CharField()
    name = pw.CharField()
    value = pw.CharField()

    class Meta:
        table_name = "input_tags"
        primary_key = False


class LoggedModel(_Model):
    """The ``LoggedModel`` rows of MLflow's schema."""

    model_id = pw.CharField(primary_key=True)
    experiment_id = pw.IntegerField()
    name = pw.CharField()
    artifact_location = pw.CharField()
    creation_timestamp_ms = pw.BigIntegerField()
    last_updated_timestamp_ms = pw.BigIntegerField()
    status = pw.IntegerField()
    lifecycle_stage = pw.CharField(null=True)
    model_type = pw.CharField(null=True)
    source_run_id = pw.CharField(null=True)
    status_message = pw.CharField(null=True)

    class Meta:
        table_name = "logged_models"


class LoggedModelMetric(_Model):
    """The ``LoggedModelMetric`` rows of MLflow's schema."""

    model_id = pw.CharField()
    metric_name = pw.CharField()
    metric_timestamp_ms = pw.BigIntegerField()
    metric_step = pw.BigIntegerField()
    metric_value = pw.DoubleField(null=True)
    run_id = pw.CharField()
    dataset_name = pw.CharField(null=True)
    dataset_digest = pw.CharField(null=True)

    class Meta:
        table_name = "logged_model_metrics"
        primary_key = False


class LoggedModelParam(_Model):
    """The ``LoggedModelParam`` rows of MLflow's schema."""

    model_id = pw.CharField()
    param_key = pw.CharField()
    param_value = pw.TextField()

    class Meta:
        table_name = "logged_model_params"
        primary_key = False


class LoggedModelTag(_Model):
    """The ``LoggedModelTag`` rows of MLflow's schema."""

    model_id = pw.CharField()
    tag_key = pw.CharField()
    tag_value = pw.TextField()

    class Meta:
        table_name = "logged_model_tags"
        primary_key = False


class RegisteredModel(_Model):
    """The ``RegisteredModel`` rows of MLflow's schema."""

    name = pw.CharField(primary_key=True)
    creation_time = pw.BigIntegerField(null=True)
    last_updated_time = pw.BigIntegerField(null=True)
    description = pw.TextField(null=True)
    workspace = pw.CharField()

    class Meta:
        table_name = "registered_models"


class RegisteredModelTag(_Model):
    """The ``RegisteredModelTag`` rows of MLflow's schema."""

    key = pw.CharField()
    value = pw.TextField(null=True)
    name = pw.CharField()
    workspace = pw.CharField()

    class Meta:
        table_name = "registered_model_tags"
        primary_key = False


class ModelVersion(_Model):
    """The ``ModelVersion`` rows of MLflow's schema."""

    name = pw.CharField()
    version = pw.IntegerField()
    creation_time = pw.BigIntegerField(null=True)
    last_updated_time = pw.BigIntegerField(null=True)
    description = pw.TextField(null=True)
    user_id = pw.CharField(null=True)
    current_stage = pw.CharField(null=True)
    source = pw.CharField(null=True)
    run_id = pw.CharField(null=True)
    status = pw.CharField(null=True)
    status_message = pw.CharField(null=True)
    run_link = pw.CharField(null=True)
    workspace = pw.CharField()

    class Meta:
        table_name = "model_versions"
        primary_key = False


class ModelVersionTag(_Model):
    """The ``ModelVersionTag`` rows of MLflow's schema."""

    key = pw.CharField()
    value = pw.TextField(null=True)
    name = pw.CharField()
    version = pw.IntegerField()
    workspace = pw.CharField()

    class Meta:
        table_name = "model_version_tags"
        primary_key = False


class RegisteredModelAlias(_Model):
    """The ``RegisteredModelAlias`` rows of MLflow's schema."""

    alias_name = pw.CharField(column_name="alias")
    version = pw.IntegerField()
    name = pw.CharField()
    workspace = pw.CharField()

    class Meta:
        table_name = "registered_model_aliases"
        primary_key = False


ALL: tuple[type[pw.Model], ...] = (
    AlembicVersion,
    Experiment,
    ExperimentTag,
    Run,
    Param,
    Tag,
    Metric,
    Dataset,
    Input,
    InputTag,
    LoggedModel,
    LoggedModelMetric,
    LoggedModelParam,
    LoggedModelTag,
    RegisteredModel,
    RegisteredModelTag,
    ModelVersion,
    ModelVersionTag,
    RegisteredModelAlias,
)
