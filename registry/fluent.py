"""The module-level API (``import registry as mlflow``): a current experiment and a run stack.

Every function talks to the server through one ``Client`` for the current tracking URI.
"""

from __future__ import annotations

import logging
import os
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import pandas as pd

from registry.client import Client
from registry.client.datasets import dataset_input
from registry.client.registration import register_model as _register
from registry.client.run_context import current_user, system_tags
from registry.client.runs_frame import runs_to_frame
from registry.client.tracking import metric_value, now_ms
from registry.client.tracking_uri import get_tracking_uri
from registry.client.tracking_uri import set_tracking_uri as _set_uri
from registry.entities import Experiment, Metric, ModelVersion, Param, Run, RunTag, ViewType
from registry.errors import InvalidParameter

logger = logging.getLogger(__name__)

_state = threading.local()
_lock = threading.Lock()
_clients: dict[str, Client] = {}
_experiment_id: str | None = None
_last_run_id: str | None = None


class ActiveRun:
    """The run ``start_run`` returns; leaving its ``with`` block ends the run.

    ``info`` and ``data`` are the run as it was when started (``get_run`` reads it fresh).
    """

    def __init__(self, run: Run) -> None:
        self._run = run

    @property
    def info(self) -> Any:
        """The run's RunInfo."""
        return self._run.info

    @property
    def data(self) -> Any:
        """The run's RunData at start."""
        return self._run.data

    def __enter__(self) -> ActiveRun:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        stack = _stack()
        if any(r.info.run_id == self.info.run_id for r in stack):
            end_run("FINISHED" if exc_type is None else "FAILED")


def _stack() -> list[ActiveRun]:
    if not hasattr(_state, "runs"):
        _state.runs = []
    runs: list[ActiveRun] = _state.runs
    return runs


def client() -> Client:
    """The shared ``Client`` for the current tracking URI."""
    uri = get_tracking_uri()
    with _lock:
        if uri not in _clients:
            _clients[uri] = Client(uri)
        return _clients[uri]


def set_tracking_uri(uri: str | os.PathLike[str]) -> None:
    """Send everything from now on to ``uri`` (``http(s)://``, ``sqlite:///...``, a ``.db`` path).

    Raises:
        InvalidParameter: the scheme is not one the client speaks.
    """
    global _experiment_id, _last_run_id
    _set_uri(uri)
    _experiment_id = _last_run_id = None


def set_experiment(
    experiment_name: str | None = None, experiment_id: str | None = None
) -> Experiment:
    """Make an experiment current, creating it by name if it does not exist.

    Raises:
        InvalidParameter: neither argument is given, or the experiment is deleted.
        NotFound: ``experiment_id`` names no experiment.
    """
    global _experiment_id
    c = client()
    if experiment_id is not None:
        experiment = c.get_experiment(experiment_id)
    elif experiment_name:
        found = c.get_experiment_by_name(experiment_name)
        experiment = found or c.get_experiment(c.create_experiment(experiment_name))
    else:
        raise InvalidParameter("set_experiment needs experiment_name or experiment_id.")
    if experiment.lifecycle_stage != "active":
        raise InvalidParameter(
            f"Experiment {experiment.name!r} is deleted; restore it or choose another name."
        )
    _experiment_id = experiment.experiment_id
    return experiment


def create_experiment(
    name: str, artifact_location: str | None = None, tags: dict[str, Any] | None = None
) -> str:
    """Create an experiment and return its id.

    Raises:
        AlreadyExists: the name is taken.
    """
    return client().create_experiment(name, artifact_location, tags)


def get_experiment(experiment_id: str) -> Experiment:
    """The experiment with this id.

    Raises:
        NotFound: no such experiment.
    """
    return client().get_experiment(experiment_id)


def get_experiment_by_name(name: str) -> Experiment | None:
    """The experiment with this name, or None."""
    return client().get_experiment_by_name(name)


def current_experiment_id() -> str:
    """The experiment new runs go to: set_experiment's, else the environment's, else "0"."""
    if _experiment_id is not None:
        return _experiment_id
    if os.environ.get("MLFLOW_EXPERIMENT_ID"):
        return os.environ["MLFLOW_EXPERIMENT_ID"]
    if os.environ.get("MLFLOW_EXPERIMENT_NAME"):
        return set_experiment(os.environ["MLFLOW_EXPERIMENT_NAME"]).experiment_id
    return "0"


def start_run(
    run_id: str | None = None,
    experiment_id: str | None = None,
    run_name: str | None = None,
    nested: bool = False,
    tags: dict[str, Any] | None = None,
    description: str | None = None,
) -> ActiveRun:
    """Start a run (or resume ``run_id``) and make it active; use it as a context manager.

    Leaving the ``with`` block ends the run FINISHED, or FAILED when an exception escapes.

    Raises:
        InvalidParameter: a run is already active and ``nested`` is False.
        NotFound: ``run_id`` or the experiment does not exist.
    """
    global _last_run_id
    stack = _stack()
    if stack and not nested:
        raise InvalidParameter(
            f"Run {stack[-1].info.run_id} is already active. End it with end_run() first, "
            "or pass nested=True to start a child run."
        )
    c = client()
    if run_id:
        run = c.get_run(run_id)
        if run.info.status != "RUNNING":
            c.update_run(run_id, "RUNNING")
            run = c.get_run(run_id)
    else:
        all_tags = {**system_tags(), **(tags or {})}
        if stack:
            all_tags["mlflow.parentRunId"] = stack[-1].info.run_id
        if description:
            all_tags["mlflow.note.content"] = description
        run = c.create_run(
            experiment_id or current_experiment_id(),
            tags=all_tags,
            run_name=run_name,
            user_id=current_user(),
        )
    active = ActiveRun(run)
    stack.append(active)
    _last_run_id = run.info.run_id
    return active


def end_run(status: str = "FINISHED") -> None:
    """End the active run with ``status`` (metrics still queued are stored first).

    Raises:
        RegistryError: queued metrics could not be stored (the run is ended anyway).
    """
    stack = _stack()
    if stack:
        run = stack.pop()
        client().set_terminated(run.info.run_id, status)


def active_run() -> ActiveRun | None:
    """The innermost active run, or None."""
    stack = _stack()
    return stack[-1] if stack else None


def last_active_run() -> Run | None:
    """The active run, else the last one started in this process, read fresh; or None."""
    current = active_run()
    run_id = current.info.run_id if current else _last_run_id
    return client().get_run(run_id) if run_id else None


def _run_id() -> str:
    current = active_run()
    run = current or start_run()
    run_id: str = run.info.run_id
    return run_id


def log_param(key: str, value: Any) -> Any:
    """Log a parameter of the active run (starting one if none) and return ``value``.

    Raises:
        InvalidParameter: the key already holds a different value.
    """
    return client().log_param(_run_id(), key, value)


def log_params(params: dict[str, Any]) -> None:
    """Log several parameters in one request.

    Raises:
        InvalidParameter: a key already holds a different value.
    """
    client().log_batch(_run_id(), params=[Param(k, str(v)) for k, v in params.items()])


def log_metric(
    key: str,
    value: float,
    step: int | None = None,
    timestamp: int | None = None,
    synchronous: bool | None = None,
) -> None:
    """Log a metric point (queued and sent in batches by a background thread by default).

    Raises:
        InvalidParameter: the value is not a number.
    """
    client().log_metric(_run_id(), key, value, timestamp, step, synchronous)


def log_metrics(
    metrics: dict[str, float],
    step: int | None = None,
    timestamp: int | None = None,
    synchronous: bool | None = None,
) -> None:
    """Log several metric points at one step.

    Raises:
        InvalidParameter: a value is not a number (nothing is logged then).
    """
    c, run_id, ts = client(), _run_id(), timestamp or now_ms()
    points = [Metric(k, metric_value(k, v), ts, step or 0) for k, v in metrics.items()]
    if c._queue is not None and not synchronous:
        for m in points:
            c.log_metric(run_id, m.key, m.value, m.timestamp, m.step)
    else:
        c.log_batch(run_id, metrics=points)


def set_tag(key: str, value: Any) -> None:
    """Set a tag on the active run."""
    client().set_tag(_run_id(), key, value)


def set_tags(tags: dict[str, Any]) -> None:
    """Set several tags on the active run in one request."""
    client().log_batch(_run_id(), tags=[RunTag(k, str(v)) for k, v in tags.items()])


def delete_tag(key: str) -> None:
    """Remove a tag from the active run."""
    client().delete_tag(_run_id(), key)


def log_artifact(local_path: str | os.PathLike[str], artifact_path: str | None = None) -> None:
    """Upload a file into the active run's artifacts (under ``artifact_path``)."""
    client().log_artifact(_run_id(), Path(local_path), artifact_path)


def log_artifacts(local_dir: str | os.PathLike[str], artifact_path: str | None = None) -> None:
    """Upload a directory's files into the active run's artifacts."""
    client().log_artifacts(_run_id(), Path(local_dir), artifact_path)


def log_dict(dictionary: dict[str, Any], artifact_file: str) -> None:
    """Store a dict as a JSON (or YAML) artifact of the active run."""
    client().log_dict(_run_id(), dictionary, artifact_file)


def log_text(text: str, artifact_file: str) -> None:
    """Store text as an artifact of the active run."""
    client().log_text(_run_id(), text, artifact_file)


def log_figure(figure: Any, artifact_file: str) -> None:
    """Store a matplotlib figure (PNG, SVG, PDF... by extension) as a run artifact."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / Path(artifact_file).name
        figure.savefig(path)
        client().log_artifact(_run_id(), path, os.path.dirname(artifact_file) or None)


def log_input(
    dataset: Any,
    context: str | None = None,
    tags: dict[str, str] | None = None,
    name: str = "dataset",
) -> None:
    """Record a DataFrame or array as an input of the active run (name, digest, schema, size)."""
    client().log_inputs(_run_id(), [dataset_input(dataset, name, context, tags=tags)])


def get_artifact_uri(artifact_path: str | None = None) -> str:
    """The artifact URI of the active run (or of a path inside it)."""
    root = client().get_run(_run_id()).info.artifact_uri
    return f"{root}/{artifact_path}" if artifact_path else root


def register_model(model_uri: str, name: str, tags: dict[str, Any] | None = None) -> ModelVersion:
    """Register ``model_uri`` (``runs:/``, ``models:/m-...``) as the next version of ``name``.

    Raises:
        NotFound: the URI names no model.
    """
    return _register(client(), model_uri, name, tags)


def get_run(run_id: str) -> Run:
    """A run with its latest metrics, params and tags.

    Raises:
        NotFound: no such run.
    """
    return client().get_run(run_id)


def search_runs(
    experiment_ids: Sequence[str] | None = None,
    filter_string: str = "",
    run_view_type: ViewType | int = ViewType.ACTIVE_ONLY,
    max_results: int = 100000,
    order_by: Sequence[str] | None = None,
    output_format: str = "pandas",
    search_all_experiments: bool = False,
    experiment_names: Sequence[str] | None = None,
) -> pd.DataFrame | list[Run]:
    """Runs matching ``filter_string``: a DataFrame, or Runs with ``output_format="list"``.

    Raises:
        InvalidParameter: a bad filter or order_by, or an unknown output format.
    """
    c = client()
    ids = list(experiment_ids or [])
    for name in experiment_names or []:
        found = c.get_experiment_by_name(name)
        if found:
            ids.append(found.experiment_id)
    if not ids and not experiment_names:
        if search_all_experiments:
            ids = [e.experiment_id for e in search_experiments(view_type=run_view_type)]
        else:
            ids = [current_experiment_id()]
    runs: list[Run] = []
    token: str | None = None
    while len(runs) < max_results and ids:
        page = c.search_runs(
            ids, filter_string, run_view_type, min(max_results - len(runs), 50000), order_by, token
        )
        runs.extend(page)
        token = page.token
        if not token:
            break
    if output_format == "list":
        return runs
    if output_format != "pandas":
        raise InvalidParameter(f"Unknown output_format {output_format!r}: use 'pandas' or 'list'.")
    return runs_to_frame(runs)


def search_experiments(
    view_type: ViewType | int = ViewType.ACTIVE_ONLY,
    max_results: int | None = None,
    filter_string: str | None = None,
    order_by: Sequence[str] | None = None,
) -> list[Experiment]:
    """Every experiment matching ``filter_string`` (up to ``max_results``)."""
    experiments: list[Experiment] = []
    token: str | None = None
    while max_results is None or len(experiments) < max_results:
        page = client().search_experiments(view_type, 1000, filter_string, order_by, token)
        experiments.extend(page)
        token = page.token
        if not token:
            break
    return experiments[:max_results] if max_results is not None else experiments


def flush_async_logging() -> None:
    """Wait until every queued metric point is stored.

    Raises:
        RegistryError: a queued batch was refused by the server.
    """
    client().flush()
