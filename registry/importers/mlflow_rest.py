"""Read a running MLflow server over its REST API: for file stores and unreachable databases.

What REST cannot show is not imported: deleted model versions (MLflow hides them, so their
numbers are not reserved here) and deleted logged models. Metric histories are read per run
and key (``metrics/get-history``); artifacts behind ``mlflow-artifacts:/`` URIs through the
server's artifact proxy.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import Any, BinaryIO, cast

import httpx

from registry.artifacts import CHUNK_SIZE, FileInfo
from registry.errors import ArtifactNotFound, InvalidParameter
from registry.importers.artifact_copy import SourceTree, StoreTree, TreeOpener
from registry.importers.uris import PROXY_SCHEME
from registry.store.datasets import DatasetInput
from registry.store.imports import (
    ImportedExperiment,
    ImportedLoggedModel,
    ImportedModelVersion,
    ImportedRegisteredModel,
    ImportedRun,
    RunSummary,
)
from registry.store.metrics import MetricPoint

API = "/api/2.0/mlflow"
PROXY = "/api/2.0/mlflow-artifacts/artifacts"
PAGE = 1000
HISTORY_PAGE = 25000
SPOOL_BYTES = 16 * 1024 * 1024

JSON = dict[str, Any]


def _tags(items: list[JSON] | None) -> dict[str, str]:
    return {item["key"]: item.get("value", "") for item in items or []}


class MlflowServer:
    """An ``MlflowSource`` over a running MLflow server's REST API."""

    def __init__(self, base_url: str, client: httpx.Client | None = None) -> None:
        """Connect to ``base_url`` (``http(s)://host:port``).

        Raises:
            InvalidParameter: the server does not answer as an MLflow server.
        """
        self.description = base_url
        self._http = client or httpx.Client(base_url=base_url.rstrip("/"), timeout=60)
        self._runs: dict[str, JSON] = {}
        self._logged: list[JSON] | None = None
        self._links: dict[tuple[Any, ...], tuple[str, str | None, str | None]] | None = None
        try:
            self._experiments = self._all(
                "POST", "experiments/search", "experiments", {"view_type": "ALL"}
            )
        except httpx.HTTPError as err:
            raise InvalidParameter(
                f"{base_url} does not answer as an MLflow server: {err}"
            ) from None

    def close(self) -> None:
        """Close the HTTP connections."""
        self._http.close()

    def _call(self, method: str, path: str, body: JSON) -> JSON:
        if method == "GET":
            response = self._http.get(f"{API}/{path}", params=body)
        else:
            response = self._http.post(f"{API}/{path}", json=body)
        response.raise_for_status()
        payload: JSON = response.json()
        return payload

    def _all(self, method: str, path: str, key: str, body: JSON) -> list[JSON]:
        found: list[JSON] = []
        token = None
        while True:
            page = self._call(method, path, {**body, "max_results": PAGE, "page_token": token})
            found += page.get(key, [])
            token = page.get("next_page_token")
            if not token:
                return found

    # --- tracking -------------------------------------------------------------------------------

    def experiments(self) -> list[ImportedExperiment]:
        """Every experiment, active or deleted, with its tags."""
        return [
            ImportedExperiment(
                int(e["experiment_id"]),
                e["name"],
                e.get("artifact_location", ""),
                e.get("lifecycle_stage", "active"),
                int(e.get("creation_time", 0)),
                int(e.get("last_update_time", 0)),
                _tags(e.get("tags")),
            )
            for e in self._experiments
        ]

    def run_ids(self, since: int | None) -> list[str]:
        """Every run (active or deleted), or those touched at or after ``since``."""
        body = {
            "experiment_ids": [e["experiment_id"] for e in self._experiments],
            "run_view_type": "ALL",
        }
        if not body["experiment_ids"]:
            return []
        for run in self._all("POST", "runs/search", "runs", body):
            self._runs[run["info"]["run_id"]] = run
        return [
            run_id
            for run_id, run in self._runs.items()
            if since is None or _touched_since(run["info"], since)
        ]

    def run_summaries(self, run_ids: Sequence[str]) -> dict[str, RunSummary]:
        """Summaries of ``run_ids``; the history sizes need every point, read here."""
        found = {}
        for run_id in run_ids:
            run = self._run(run_id)
            points = self._history(run_id)
            found[run_id] = RunSummary(
                run.row_fields(),
                run.params,
                run.tags,
                len(points),
                max((p.timestamp for p in points), default=None),
                len(run.datasets) + len(run.model_inputs) + len(run.model_outputs),
            )
        return found

    def runs(self, run_ids: Sequence[str]) -> Iterator[ImportedRun]:
        """The runs whole, every metric point read from the server."""
        for run_id in run_ids:
            run = self._run(run_id)
            yield replace(run, metrics=self._history(run_id))

    def _run(self, run_id: str) -> ImportedRun:
        raw = self._runs[run_id]
        info, data = raw["info"], raw.get("data", {})
        inputs, outputs = raw.get("inputs", {}), raw.get("outputs", {})
        return ImportedRun(
            run_id,
            int(info["experiment_id"]),
            info.get("run_name", ""),
            info.get("user_id", ""),
            info.get("status", "RUNNING"),
            _int(info.get("start_time")),
            _int(info.get("end_time")),
            info.get("lifecycle_stage", "active"),
            info.get("artifact_uri", ""),
            None,
            params=_tags(data.get("params")),
            tags=_tags(data.get("tags")),
            datasets=[_dataset(d) for d in inputs.get("dataset_inputs", [])],
            model_inputs=[m["model_id"] for m in inputs.get("model_inputs", [])],
            model_outputs=[
                (m["model_id"], int(m.get("step", 0))) for m in outputs.get("model_outputs", [])
            ],
        )

    def _history(self, run_id: str) -> list[MetricPoint]:
        links = self._model_metric_links()
        points = []
        for point in self._points(run_id):
            link = links.get((run_id, point.key, point.step, point.timestamp, point.value))
            if point.model_id is None and link is not None:
                model_id, dataset_name, dataset_digest = link
                point = point._replace(
                    model_id=model_id,
                    dataset_name=dataset_name,
                    dataset_digest=dataset_digest,
                )
            points.append(point)
        return points

    def _model_metric_links(self) -> dict[tuple[Any, ...], tuple[str, str | None, str | None]]:
        # Which points were logged with a model: get-history does not say, the model's metrics do.
        if self._links is None:
            self._links = {}
            for model in self._logged_models():
                for m in model.get("data", {}).get("metrics", []):
                    point = _point(m)
                    key = (m.get("run_id"), point.key, point.step, point.timestamp, point.value)
                    self._links[key] = (
                        model["info"]["model_id"],
                        point.dataset_name,
                        point.dataset_digest,
                    )
        return self._links

    def _logged_models(self) -> list[JSON]:
        ids = [e["experiment_id"] for e in self._experiments]
        if self._logged is None:
            body = {"experiment_ids": ids}
            self._logged = self._all("POST", "logged-models/search", "models", body) if ids else []
        return self._logged

    def _points(self, run_id: str) -> list[MetricPoint]:
        points = []
        keys = {m["key"] for m in self._runs[run_id].get("data", {}).get("metrics", [])}
        for key in sorted(keys):
            body = {"run_id": run_id, "metric_key": key, "max_results": HISTORY_PAGE}
            token = None
            while True:
                page = self._call("GET", "metrics/get-history", {**body, "page_token": token})
                points += [_point(m) for m in page.get("metrics", [])]
                token = page.get("next_page_token")
                if not token:
                    break
        return points

    def logged_models(self, since: int | None) -> list[ImportedLoggedModel]:
        """Logged models the server lists (deleted ones are not listed)."""
        found = []
        for model in self._logged_models():
            info, data = model["info"], model.get("data", {})
            if since is not None and int(info.get("last_updated_timestamp_ms", 0)) < since:
                continue
            found.append(
                ImportedLoggedModel(
                    info["model_id"],
                    int(info["experiment_id"]),
                    info.get("name", ""),
                    info.get("model_type", ""),
                    info.get("source_run_id"),
                    info.get("status", "LOGGED_MODEL_PENDING"),
                    info.get("status_message", ""),
                    info.get("artifact_uri", ""),
                    info.get("lifecycle_stage", "active"),
                    int(info.get("creation_timestamp_ms", 0)),
                    int(info.get("last_updated_timestamp_ms", 0)),
                    _tags(data.get("params")),
                    _tags(info.get("tags")),
                )
            )
        return found

    # --- registry -------------------------------------------------------------------------------

    def registered_models(self, since: int | None) -> list[ImportedRegisteredModel]:
        """Registered models with tags and aliases."""
        models = self._all("GET", "registered-models/search", "registered_models", {})
        return [
            ImportedRegisteredModel(
                m["name"],
                m.get("description", ""),
                int(m.get("creation_timestamp", 0)),
                int(m.get("last_updated_timestamp", 0)),
                _tags(m.get("tags")),
                {a["alias"]: int(a["version"]) for a in m.get("aliases", [])},
            )
            for m in models
            if since is None or int(m.get("last_updated_timestamp", 0)) >= since
        ]

    def model_versions(self, name: str) -> list[ImportedModelVersion]:
        """The versions the server lists (not the deleted ones), by number."""
        escaped = name.replace("'", "\\'")
        versions = self._all(
            "GET", "model-versions/search", "model_versions", {"filter": f"name='{escaped}'"}
        )
        return sorted(
            (
                ImportedModelVersion(
                    name,
                    int(v["version"]),
                    v.get("description", ""),
                    v.get("user_id", ""),
                    int(v.get("creation_timestamp", 0)),
                    int(v.get("last_updated_timestamp", 0)),
                    v.get("current_stage", "None"),
                    v.get("source", ""),
                    v.get("run_id") or None,
                    v.get("run_link", ""),
                    v.get("model_id") or None,
                    v.get("status", "READY"),
                    v.get("status_message", ""),
                    _tags(v.get("tags")),
                )
                for v in versions
            ),
            key=lambda v: v.version,
        )

    # --- artifacts ------------------------------------------------------------------------------

    def tree_opener(self, fallback: TreeOpener) -> TreeOpener:
        """Open ``mlflow-artifacts:`` locations through the server's proxy, others by fallback."""

        def open_tree(uri: str) -> SourceTree:
            if uri.startswith(f"{PROXY_SCHEME}:"):
                return StoreTree(ProxyTree(self._http, uri.split(":", 1)[1]))
            return fallback(uri)

        return open_tree


class ProxyTree:
    """Files below one path of an MLflow server's artifact proxy (``list`` and ``open``)."""

    def __init__(self, http: httpx.Client, root: str) -> None:
        self._http = http
        self._root = root.strip("/")

    def list(self, prefix: str) -> list[FileInfo]:
        """The direct children of ``prefix`` below the root."""
        path = "/".join(p for p in (self._root, prefix) if p)
        response = self._http.get(PROXY, params={"path": path})
        response.raise_for_status()
        return [
            FileInfo(f["path"].rsplit("/", 1)[-1], bool(f.get("is_dir")), _int(f.get("file_size")))
            for f in response.json().get("files", [])
        ]

    def open(self, path: str) -> BinaryIO:
        """The file's bytes, streamed into a spooled temporary file (memory stays bounded).

        Raises:
            ArtifactNotFound: the server has no such file.
        """
        spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 (returned)
        with self._http.stream("GET", f"{PROXY}/{self._root}/{path}") as response:
            if response.status_code == 404:
                spool.close()
                raise ArtifactNotFound(f"No such artifact on the server: {self._root}/{path}")
            response.raise_for_status()
            for chunk in response.iter_bytes(CHUNK_SIZE):
                spool.write(chunk)
        spool.seek(0)
        return cast(BinaryIO, spool)


def _touched_since(info: JSON, since: int) -> bool:
    end = _int(info.get("end_time"))
    return end is None or end >= since or (_int(info.get("start_time")) or 0) >= since


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


def _point(metric: JSON) -> MetricPoint:
    value = metric.get("value", 0.0)
    number = float("nan") if value == "NaN" else float(value)
    return MetricPoint(
        metric["key"],
        number,
        int(metric.get("timestamp", 0)),
        int(metric.get("step", 0)),
        metric.get("model_id") or None,
        metric.get("dataset_name") or None,
        metric.get("dataset_digest") or None,
    )


def _dataset(item: JSON) -> DatasetInput:
    d = item["dataset"]
    return DatasetInput(
        d["name"],
        d["digest"],
        d.get("source_type", ""),
        d.get("source", ""),
        d.get("schema"),
        d.get("profile"),
        _tags(item.get("tags")),
    )
