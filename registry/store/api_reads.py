"""Store records as the API answers them: each dumped through its wire schema.

The shapes are the wire package's; what lives here is only where a value comes from when the
row names or stores it differently (``Run.name`` is ``run_name``, a metric's value is stored
with its kind, a version's status is always ``READY``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from registry.store.datasets import dataset_input_tags
from registry.store.experiments import ExperimentRecord, with_tags
from registry.store.logged_models import LoggedModelRecord
from registry.store.metrics import logged_value
from registry.store.models import (
    VALUE_FINITE,
    Experiment,
    ModelVersion,
    RegisteredModel,
    RegisteredModelAlias,
    Transition,
)
from registry.store.runs import RunRecord
from registry.store.version_rows import VersionRow, as_row
from registry.wire import logged_models, registry, tracking
from registry.wire.base import JSON, Constant, View, encoder, itself


def _logged_value(metric: Any) -> float:
    kind = metric.value_kind
    return metric.value if kind == VALUE_FINITE else logged_value(metric.value, kind)


def _model_info(record: LoggedModelRecord) -> View:
    return View(record.model, tags=record.tags)


def _exclusive(model: RegisteredModel) -> bool:
    return bool(model.exclusive_stages)


_READY = Constant("READY")
_RUN_SOURCES = {"run_id": "run_uuid", "run_name": "name"}
_EXPERIMENT = encoder(tracking.Experiment.Schema)
_RUN_INFO = encoder(tracking.RunInfo.Schema, sources=_RUN_SOURCES)
_METRIC = encoder(tracking.Metric.Schema, sources={"value": _logged_value})
# A run's latest metrics: their rows carry the run id, which a run's data leaves out.
_LATEST_METRIC = encoder(
    tracking.Metric.Schema, sources={"value": _logged_value, "run_id": Constant(None)}
)
_DATASET_INPUT = encoder(
    tracking.DatasetInput.Schema, sources={"dataset": itself, "tags": dataset_input_tags}
)
# A RunRecord as a Run: every part is read from the record's rows, none rebuilt as a View.
_RUN = encoder(
    tracking.Run.Schema,
    sources={"info": "run", "data": itself, "inputs": itself, "outputs": itself},
    nested={
        "info": _RUN_INFO,
        "data": encoder(tracking.RunData.Schema, nested={"metrics": _LATEST_METRIC}),
        "inputs": encoder(tracking.RunInputs.Schema, nested={"dataset_inputs": _DATASET_INPUT}),
    },
)
_LOGGED_MODEL = encoder(
    logged_models.LoggedModel.Schema,
    sources={"info": _model_info, "data": itself},
    nested={"data": encoder(logged_models.LoggedModelData.Schema, nested={"metrics": _METRIC})},
)
_VERSION = encoder(registry.ModelVersion.Schema, sources={"status": _READY})
# A registered model's latest versions are listed without their tags and aliases.
_LATEST_VERSION = encoder(
    registry.ModelVersion.Schema,
    sources={"status": _READY, "tags": Constant(()), "aliases": Constant(())},
)
_MODEL = encoder(
    registry.RegisteredModel.Schema,
    sources={"exclusive_stages": _exclusive},
    nested={"latest_versions": _LATEST_VERSION},
)
_TRANSITION = encoder(registry.Transition.Schema, sources={"alias": "alias_name"})


def experiment_json(record: ExperimentRecord) -> JSON:
    """An Experiment."""
    return _EXPERIMENT(View(record.experiment, tags=record.tags))


def experiment_row_json(experiment: Experiment) -> JSON:
    """An Experiment from its row (its tags fetched)."""
    return experiment_json(with_tags([experiment])[0])


def run_info_json(run: Any) -> JSON:
    """A RunInfo (``end_time`` omitted while the run has none)."""
    return _RUN_INFO(run)


def metric_json(metric: Any, run_id: str | None = None) -> JSON:
    """A Metric from a history or latest-value row; ``run_id`` only when given."""
    return _METRIC(View(metric, run_id=run_id))


def run_json(record: RunRecord) -> JSON:
    """A Run: info, data (latest metrics, params, tags), inputs and outputs."""
    return _RUN(record)


def logged_model_json(record: LoggedModelRecord) -> JSON:
    """A LoggedModel: ``{info, data}``."""
    return _LOGGED_MODEL(record)


def model_version_json(
    version: VersionRow, tags: Sequence[Any] = (), aliases: Sequence[str] | None = None
) -> JSON:
    """A ModelVersion as MLflow sends it (``status`` is always ``READY``)."""
    return _VERSION(View(version, tags=tags, aliases=aliases or ()))


def registered_model_json(
    model: RegisteredModel,
    *,
    tags: Sequence[Any] = (),
    aliases: Sequence[RegisteredModelAlias] = (),
    latest: Sequence[ModelVersion] = (),
) -> JSON:
    """A RegisteredModel as MLflow sends it, plus our ``exclusive_stages`` flag."""
    view = View(
        model,
        latest_versions=[as_row(v) for v in latest],
        tags=tags,
        aliases=[(a.alias_name, a.version) for a in aliases],
    )
    return _MODEL(view)


def transition_json(entry: Transition, model_name: str) -> JSON:
    """One history entry."""
    return _TRANSITION(View(entry, name=model_name))
