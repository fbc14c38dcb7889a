"""MlflowClient's run, metric, param and tag methods."""

from __future__ import annotations

import numbers
import re
import time
from collections.abc import Iterable, Sequence
from typing import Any

from registry.client.base import ClientBase
from registry.entities import (
    Metric,
    PagedList,
    Param,
    Run,
    RunInfo,
    RunTag,
    ViewType,
)
from registry.errors import InvalidParameter
from registry.wire.base import encoder

_KEY = re.compile(r"[\w\-. :/]{1,250}")


def now_ms() -> int:
    """Milliseconds since the epoch, MLflow's timestamp unit."""
    return int(time.time() * 1000)


def metric_value(key: str, value: Any) -> float:
    """``value`` as a float, or a clear error when it or the key cannot be stored.

    Checked before a point is queued, so one bad point never sinks a batch of good ones.

    Raises:
        InvalidParameter: the value is not a real number (a string, None, a bool...), or the
            key has characters other than alphanumerics, ``_ - . : /`` and spaces.
    """
    if not isinstance(key, str) or not _KEY.fullmatch(key):
        raise InvalidParameter(
            f"Invalid metric name {key!r}: use at most 250 alphanumerics, underscores, dashes,"
            " periods, spaces, colons and slashes."
        )
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InvalidParameter(
            f"Got invalid value {value!r} for metric {key!r}: a metric must be a number."
        )
    return float(value)


_metric_dict = encoder(Metric.Schema)
_param_dict = encoder(Param.Schema)


def _pairs(items: Iterable[Param | RunTag]) -> list[dict[str, str]]:
    return [_param_dict(item) for item in items]


class TrackingMixin(ClientBase):
    """Runs, metrics, params and tags."""

    def create_run(
        self,
        experiment_id: str,
        start_time: int | None = None,
        tags: dict[str, Any] | None = None,
        run_name: str | None = None,
        user_id: str = "unknown",
    ) -> Run:
        """Start a run in an experiment (status RUNNING).

        Raises:
            NotFound: no such experiment.
            InvalidParameter: the experiment is deleted.
        """
        tags = dict(tags or {})
        if run_name:
            tags["mlflow.runName"] = run_name
        body: dict[str, Any] = {
            "experiment_id": str(experiment_id),
            "user_id": user_id,
            "start_time": start_time if start_time is not None else now_ms(),
            "tags": [{"key": k, "value": str(v)} for k, v in tags.items()],
        }
        if run_name:
            body["run_name"] = run_name
        return Run.from_dict(self._call("POST", "runs/create", body)["run"])

    def get_run(self, run_id: str) -> Run:
        """The run with its latest metrics, params and tags (queued metrics flushed first).

        Raises:
            NotFound: no such run.
        """
        self.flush()
        return Run.from_dict(self._call("GET", "runs/get", {"run_id": run_id})["run"])

    def update_run(self, run_id: str, status: str | None = None, name: str | None = None) -> None:
        """Change a run's status or name."""
        body = {"run_id": run_id, "status": status, "run_name": name}
        self._call("POST", "runs/update", {k: v for k, v in body.items() if v is not None})

    def set_terminated(
        self, run_id: str, status: str | None = None, end_time: int | None = None
    ) -> RunInfo:
        """End a run: flush its queued metrics, then set status (FINISHED) and end time.

        Raises:
            RegistryError: queued metrics could not be stored (the run is still ended).
        """
        pending: Exception | None = None
        try:
            self.flush()
        except Exception as err:
            pending = err
        body = {
            "run_id": run_id,
            "status": status or "FINISHED",
            "end_time": end_time if end_time is not None else now_ms(),
        }
        info = RunInfo.from_dict(self._call("POST", "runs/update", body)["run_info"])
        if pending is not None:
            raise pending
        return info

    def delete_run(self, run_id: str) -> None:
        """Soft-delete a run."""
        self._call("POST", "runs/delete", {"run_id": run_id})

    def restore_run(self, run_id: str) -> None:
        """Restore a deleted run."""
        self._call("POST", "runs/restore", {"run_id": run_id})

    def search_runs(
        self,
        experiment_ids: str | Sequence[str],
        filter_string: str = "",
        run_view_type: ViewType | int = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[Run]:
        """One page of runs matching ``filter_string``, ordered by ``order_by``."""
        self.flush()
        ids = [experiment_ids] if isinstance(experiment_ids, str) else list(experiment_ids)
        body = {
            "experiment_ids": [str(i) for i in ids],
            "filter": filter_string,
            "run_view_type": ViewType.to_wire(run_view_type),
            "max_results": max_results,
            "order_by": list(order_by) if order_by else None,
            "page_token": page_token,
        }
        return self._page("POST", "runs/search", body, "runs", Run.from_dict)

    def log_metric(
        self,
        run_id: str,
        key: str,
        value: float,
        timestamp: int | None = None,
        step: int | None = None,
        synchronous: bool | None = None,
        model_id: str | None = None,
    ) -> None:
        """Log one metric point; queued for a background batch unless ``synchronous``.

        Raises:
            InvalidParameter: the value is not a number (raised here, before queueing).
            RegistryError: an earlier queued batch was refused by the server.
        """
        metric = Metric(
            key, metric_value(key, value), timestamp or now_ms(), step or 0, model_id=model_id
        )
        if self._queue is not None and not synchronous:
            self._queue.put(run_id, _metric_dict(metric))
            return
        self._call("POST", "runs/log-metric", {"run_id": run_id, **_metric_dict(metric)})

    def log_param(self, run_id: str, key: str, value: Any, synchronous: bool | None = None) -> Any:
        """Log a parameter (stored as a string; logging another value later is an error).

        Raises:
            InvalidParameter: the key already holds a different value.
        """
        self._call(
            "POST", "runs/log-parameter", {"run_id": run_id, "key": key, "value": str(value)}
        )
        return value

    def set_tag(self, run_id: str, key: str, value: Any, synchronous: bool | None = None) -> None:
        """Set a tag on a run."""
        self._call("POST", "runs/set-tag", {"run_id": run_id, "key": key, "value": str(value)})

    def delete_tag(self, run_id: str, key: str) -> None:
        """Remove a tag from a run."""
        self._call("POST", "runs/delete-tag", {"run_id": run_id, "key": key})

    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
        synchronous: bool | None = None,
    ) -> None:
        """Log metrics, params and tags in as few requests as the server's limits allow.

        Raises:
            InvalidParameter: a metric value is not a number, or a param changes value.
        """
        for m in metrics:
            metric_value(m.key, m.value)
        metric_dicts = [_metric_dict(m) for m in metrics]
        param_dicts, tag_dicts = _pairs(params), _pairs(tags)
        while metric_dicts or param_dicts or tag_dicts:
            body = {
                "run_id": run_id,
                "params": param_dicts[:100],
                "tags": tag_dicts[:100],
                "metrics": metric_dicts[: 1000 - len(param_dicts[:100]) - len(tag_dicts[:100])],
            }
            self._call("POST", "runs/log-batch", body)
            param_dicts, tag_dicts = param_dicts[100:], tag_dicts[100:]
            metric_dicts = metric_dicts[len(body["metrics"]) :]

    def log_inputs(
        self,
        run_id: str,
        datasets: Sequence[dict[str, Any]] | None = None,
        models: Sequence[str] | None = None,
    ) -> None:
        """Record a run's input datasets (wire ``DatasetInput`` dicts) and input models."""
        body: dict[str, Any] = {"run_id": run_id, "datasets": list(datasets or [])}
        if models:
            body["models"] = [{"model_id": m} for m in models]
        self._call("POST", "runs/log-inputs", body)

    def log_outputs(self, run_id: str, models: Sequence[str], step: int = 0) -> None:
        """Link logged models to the run that produced them."""
        body = {"run_id": run_id, "models": [{"model_id": m, "step": step} for m in models]}
        self._call("POST", "runs/outputs", body)

    def get_metric_history(self, run_id: str, key: str) -> list[Metric]:
        """Every point of one metric, in step order (queued metrics flushed first)."""
        self.flush()
        points: list[Metric] = []
        token: str | None = None
        while True:
            body = {"run_id": run_id, "metric_key": key, "max_results": 25000, "page_token": token}
            reply = self._call("GET", "metrics/get-history", body)
            points.extend(Metric.from_dict(m) for m in reply.get("metrics") or [])
            token = reply.get("next_page_token")
            if not token:
                return points
