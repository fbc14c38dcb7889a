"""Reading runs (whole, with every metric point) and logged models from MLflow's tables.

``RunReading`` is the run half of ``MlflowDatabase``; it reads only inside that snapshot.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import Any

import peewee

from registry.store.datasets import DatasetInput
from registry.store.imports import ImportedLoggedModel, ImportedRun, RunSummary
from registry.store.metrics import MetricPoint
from registry.store.mlflow_source import schema as ml
from registry.store.mlflow_source.rows import chunked, fetch

_LOGGED_MODEL_STATUS = {
    0: "LOGGED_MODEL_PENDING",
    1: "LOGGED_MODEL_PENDING",
    2: "LOGGED_MODEL_READY",
    3: "LOGGED_MODEL_UPLOAD_FAILED",
}
_BATCH = 100
_IN_CHUNK = 500


class RunReading:
    """Runs and logged models of the experiments in ``_experiment_ids``."""

    _experiment_ids: list[int]
    _columns: dict[str, set[str]]
    _has_logged_models: bool

    def run_ids(self, since: int | None) -> list[str]:
        """Ids of the workspace's runs, or those touched at or after ``since``."""
        r = ml.Run
        query = r.select(r.run_uuid).where(r.experiment_id.in_(self._experiment_ids))
        if since is not None:
            query = query.where(
                (r.start_time >= since)
                | (r.end_time >= since)
                | r.end_time.is_null()
                | (r.deleted_time >= since)
            )
        return [row[0] for row in fetch(query.order_by(r.experiment_id, r.start_time, r.run_uuid))]

    def run_summaries(self, run_ids: Sequence[str]) -> dict[str, RunSummary]:
        """Summaries of ``run_ids``: row, params, tags, history size and input count."""
        found: dict[str, RunSummary] = {}
        for start in range(0, len(run_ids), _IN_CHUNK):
            ids = list(run_ids[start : start + _IN_CHUNK])
            params = self._key_values(ml.Param, ids)
            tags = self._key_values(ml.Tag, ids)
            m = ml.Metric
            counted = m.select(m.run_uuid, peewee.fn.COUNT(m.key), peewee.fn.MAX(m.timestamp))
            history = {
                run: (count, last)
                for run, count, last in fetch(
                    counted.where(m.run_uuid.in_(ids)).group_by(m.run_uuid)
                )
            }
            inputs = self._input_counts(ids)
            for run in self._runrows(ids):
                count, last = history.get(run.run_id, (0, None))
                found[run.run_id] = RunSummary(
                    run.row_fields(),
                    params.get(run.run_id, {}),
                    tags.get(run.run_id, {}),
                    count,
                    last,
                    inputs.get(run.run_id, 0),
                )
        return found

    def _input_counts(self, ids: list[str]) -> dict[str, int]:
        i = ml.Input
        counts: dict[str, int] = defaultdict(int)
        datasets = i.select(i.destination_id, peewee.fn.COUNT(i.input_uuid)).where(
            (i.destination_type == "RUN") & (i.source_type == "DATASET") & i.destination_id.in_(ids)
        )
        models = i.select(i.source_id, peewee.fn.COUNT(i.input_uuid)).where(
            i.source_type.in_(["RUN_INPUT", "RUN_OUTPUT"]) & i.source_id.in_(ids)
        )
        for run_id, count in fetch(datasets.group_by(i.destination_id)):
            counts[run_id] += count
        for run_id, count in fetch(models.group_by(i.source_id)):
            counts[run_id] += count
        return counts

    def _key_values(self, model: Any, ids: list[str]) -> dict[str, dict[str, str]]:
        found: dict[str, dict[str, str]] = defaultdict(dict)
        query = model.select(model.run_uuid, model.key, model.value).where(model.run_uuid.in_(ids))
        for run_id, key, value in fetch(query):
            found[run_id][key] = value or ""
        return found

    def _runrows(self, ids: list[str]) -> list[ImportedRun]:
        r = ml.Run
        query = r.select(
            r.run_uuid,
            r.experiment_id,
            r.name,
            r.user_id,
            r.status,
            r.start_time,
            r.end_time,
            r.lifecycle_stage,
            r.artifact_uri,
            r.deleted_time,
        ).where(r.run_uuid.in_(ids))
        return [
            ImportedRun(
                run_id, int(exp), name or "", user or "", status or "RUNNING", start, end,
                stage or "active", uri or "", deleted,
            )
            for run_id, exp, name, user, status, start, end, stage, uri, deleted in fetch(query)
        ]  # fmt: skip

    def runs(self, run_ids: Sequence[str]) -> Iterator[ImportedRun]:
        """The runs whole, read ``_BATCH`` at a time (one query per table per batch)."""
        for start in range(0, len(run_ids), _BATCH):
            ids = list(run_ids[start : start + _BATCH])
            rows = {run.run_id: run for run in self._runrows(ids)}
            params = self._key_values(ml.Param, ids)
            tags = self._key_values(ml.Tag, ids)
            metrics = self._metrics(ids)
            datasets = self._datasets(ids)
            model_inputs, model_outputs = self._model_links(ids)
            for run_id in ids:
                run = rows.get(run_id)
                if run is None:
                    continue
                yield replace(
                    run,
                    params=params.get(run_id, {}),
                    tags=tags.get(run_id, {}),
                    metrics=metrics.get(run_id, []),
                    datasets=datasets.get(run_id, []),
                    model_inputs=model_inputs.get(run_id, []),
                    model_outputs=model_outputs.get(run_id, []),
                )

    def _metrics(self, ids: list[str]) -> dict[str, list[MetricPoint]]:
        links = self._model_metric_links(ids)
        m = ml.Metric
        found: dict[str, list[MetricPoint]] = defaultdict(list)
        query = (
            m.select(m.run_uuid, m.key, m.value, m.timestamp, m.step, m.is_nan)
            .where(m.run_uuid.in_(ids))
            .order_by(m.run_uuid, m.key, m.step, m.timestamp)
        )
        for run_id, key, value, ts, step, is_nan in fetch(query):
            link = (None, None, None) if is_nan else links.get((run_id, key, step, ts, value))
            link = link or (None, None, None)
            found[run_id].append(MetricPoint(key, math.nan if is_nan else value, ts, step, *link))
        return found

    def _model_metric_links(
        self, ids: list[str]
    ) -> dict[tuple[str, str, int, int, float], tuple[str, str | None, str | None]]:
        """Which points were logged with a model (and dataset): MLflow keeps them apart."""
        links: dict[tuple[str, str, int, int, float], tuple[str, str | None, str | None]] = {}
        if self._has_logged_models:
            lm = ml.LoggedModelMetric
            query = lm.select(
                lm.run_id,
                lm.metric_name,
                lm.metric_step,
                lm.metric_timestamp_ms,
                lm.metric_value,
                lm.model_id,
                lm.dataset_name,
                lm.dataset_digest,
            ).where(lm.run_id.in_(ids))
            for run_id, key, step, ts, value, model_id, d_name, d_digest in fetch(query):
                if value is not None:
                    links[(run_id, key, step, ts, value)] = (model_id, d_name, d_digest)
        return links

    def _datasets(self, ids: list[str]) -> dict[str, list[DatasetInput]]:
        i, d, t = ml.Input, ml.Dataset, ml.InputTag
        inputs = fetch(
            i.select(i.input_uuid, i.source_id, i.destination_id).where(
                (i.destination_type == "RUN")
                & (i.source_type == "DATASET")
                & i.destination_id.in_(ids)
            )
        )
        if not inputs:
            return {}
        dataset_ids = list({row[1] for row in inputs})
        input_ids = [row[0] for row in inputs]
        datasets = {
            row[0]: row[1:]
            for row in chunked(
                dataset_ids,
                lambda c: d.select(
                    d.dataset_uuid,
                    d.name,
                    d.digest,
                    d.dataset_source_type,
                    d.dataset_source,
                    d.dataset_schema,
                    d.dataset_profile,
                ).where(d.dataset_uuid.in_(c)),
            )
        }
        tags: dict[str, dict[str, str]] = defaultdict(dict)
        for input_id, name, value in chunked(
            input_ids, lambda c: t.select(t.input_uuid, t.name, t.value).where(t.input_uuid.in_(c))
        ):
            tags[input_id][name] = value
        found: dict[str, list[DatasetInput]] = defaultdict(list)
        for input_id, dataset_id, run_id in inputs:
            if dataset_id in datasets:
                name, digest, source_type, source, schema, profile = datasets[dataset_id]
                found[run_id].append(
                    DatasetInput(name, digest, source_type, source, schema, profile, tags[input_id])
                )
        return found

    def _model_links(
        self, ids: list[str]
    ) -> tuple[dict[str, list[str]], dict[str, list[tuple[str, int]]]]:
        i = ml.Input
        step = i.step if "step" in self._columns["inputs"] else peewee.Value(0)
        query = i.select(i.source_type, i.source_id, i.destination_id, step).where(
            i.source_type.in_(["RUN_INPUT", "RUN_OUTPUT"]) & i.source_id.in_(ids)
        )
        inputs: dict[str, list[str]] = defaultdict(list)
        outputs: dict[str, list[tuple[str, int]]] = defaultdict(list)
        for kind, run_id, model_id, at in fetch(query):
            if kind == "RUN_INPUT":
                inputs[run_id].append(model_id)
            else:
                outputs[run_id].append((model_id, int(at or 0)))
        return inputs, outputs

    def logged_models(self, since: int | None) -> list[ImportedLoggedModel]:
        """The workspace's logged models (updated at or after ``since`` when given)."""
        if not self._has_logged_models:
            return []
        lm = ml.LoggedModel
        query = lm.select(
            lm.model_id,
            lm.experiment_id,
            lm.name,
            lm.model_type,
            lm.source_run_id,
            lm.status,
            lm.status_message,
            lm.artifact_location,
            lm.lifecycle_stage,
            lm.creation_timestamp_ms,
            lm.last_updated_timestamp_ms,
        ).where(lm.experiment_id.in_(self._experiment_ids))
        if since is not None:
            query = query.where(lm.last_updated_timestamp_ms >= since)
        rows = fetch(query.order_by(lm.creation_timestamp_ms, lm.model_id))
        ids = [row[0] for row in rows]
        p, t = ml.LoggedModelParam, ml.LoggedModelTag
        params: dict[str, dict[str, str]] = defaultdict(dict)
        for model_id, key, value in chunked(
            ids, lambda c: p.select(p.model_id, p.param_key, p.param_value).where(p.model_id.in_(c))
        ):
            params[model_id][key] = value
        tags: dict[str, dict[str, str]] = defaultdict(dict)
        for model_id, key, value in chunked(
            ids, lambda c: t.select(t.model_id, t.tag_key, t.tag_value).where(t.model_id.in_(c))
        ):
            tags[model_id][key] = value
        return [
            ImportedLoggedModel(
                model_id, int(exp), name, model_type or "", run_id,
                _LOGGED_MODEL_STATUS.get(status, "LOGGED_MODEL_PENDING"), message or "",
                location, stage or "active", created, updated,
                params[model_id], tags[model_id],
            )
            for model_id, exp, name, model_type, run_id, status, message, location, stage,
            created, updated in rows
        ]  # fmt: skip
