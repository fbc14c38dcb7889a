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
    Experiment,
    ModelVersion,
    RegisteredModel,
    RegisteredModelAlias,
    Transition,
)
from registry.store.runs import RunRecord
from registry.store.version_rows import VersionRow, as_row
from registry.wire import logged_models, registry, tracking
from registry.wire.base import JSON, View, encoder

_EXPERIMENT = encoder(tracking.Experiment.Schema)
_RUN = encoder(tracking.Run.Schema)
_RUN_INFO = encoder(tracking.RunInfo.Schema)
_METRIC = encoder(tracking.Metric.Schema)
_LOGGED_MODEL = encoder(logged_models.LoggedModel.Schema)
_VERSION = encoder(registry.ModelVersion.Schema)
_MODEL = encoder(registry.RegisteredModel.Schema)
_TRANSITION = encoder(registry.Transition.Schema)


def experiment_json(record: ExperimentRecord) -> JSON:
    """An Experiment."""
    return _EXPERIMENT(View(record.experiment, tags=record.tags))


def experiment_row_json(experiment: Experiment) -> JSON:
    """An Experiment from its row (its tags fetched)."""
    return experiment_json(with_tags([experiment])[0])


def _run_info(run: Any) -> View:
    return View(run, run_id=run.run_uuid, run_name=run.name)


def run_info_json(run: Any) -> JSON:
    """A RunInfo (``end_time`` omitted while the run has none)."""
    return _RUN_INFO(_run_info(run))


def _metric(metric: Any, run_id: str | None) -> View:
    return View(metric, value=logged_value(metric.value, metric.value_kind), run_id=run_id)


def metric_json(metric: Any, run_id: str | None = None) -> JSON:
    """A Metric from a history or latest-value row; ``run_id`` only when given."""
    return _METRIC(_metric(metric, run_id))


def run_json(record: RunRecord) -> JSON:
    """A Run: info, data (latest metrics, params, tags), inputs and outputs."""
    data = View(
        record,
        metrics=[_metric(m, None) for m in record.metrics],
        params=record.params,
        tags=record.tags,
    )
    inputs = View(
        record,
        dataset_inputs=[
            View(row, dataset=row, tags=dataset_input_tags(row)) for row in record.dataset_inputs
        ],
        model_inputs=record.model_inputs,
    )
    run = View(
        record,
        info=_run_info(record.run),
        data=data,
        inputs=inputs,
        outputs=View(record, model_outputs=record.model_outputs),
    )
    return _RUN(run)


def logged_model_json(record: LoggedModelRecord) -> JSON:
    """A LoggedModel: ``{info, data}``."""
    model = View(
        record,
        info=View(record.model, tags=record.tags),
        data=View(record, metrics=[_metric(m, m.run_id) for m in record.metrics]),
    )
    return _LOGGED_MODEL(model)


def _version(version: VersionRow, tags: Any = (), aliases: Any = ()) -> View:
    return View(version, status="READY", tags=tags, aliases=aliases)


def model_version_json(
    version: VersionRow, tags: Sequence[Any] = (), aliases: Sequence[str] | None = None
) -> JSON:
    """A ModelVersion as MLflow sends it (``status`` is always ``READY``)."""
    return _VERSION(_version(version, tags, aliases or ()))


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
        latest_versions=[_version(as_row(v)) for v in latest],
        tags=tags,
        aliases=[(a.alias_name, a.version) for a in aliases],
        exclusive_stages=bool(model.exclusive_stages),
    )
    return _MODEL(view)


def transition_json(entry: Transition, model_name: str) -> JSON:
    """One history entry."""
    return _TRANSITION(View(entry, name=model_name, alias=entry.alias_name))
