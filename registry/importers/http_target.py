"""Import into a running Modelyard server over HTTP: ``--to http(s)://host:port``.

Requests go through the client's ``Transport`` (the command passes it in, as this layer may not
import the client, which can embed the server), so the credentials are the client's own
(``MLFLOW_TRACKING_TOKEN`` or ``MODELYARD_TRACKING_TOKEN_FILE``, else ``MLFLOW_TRACKING_USERNAME``
and ``MLFLOW_TRACKING_PASSWORD``) and failed requests are retried as the client retries them.
The import endpoints (``/api/2.0/modelyard/imports/...``) are for admins.

Runs travel in groups, one request and one transaction a group. A run whose history is longer
than ``CHUNK_POINTS`` is sent in pieces of that many points (each piece repeats the run's row,
params and tags): until its last piece lands that run shows part of its history, and an
interrupted import completes it when run again, as the summaries differ.

Artifacts go through the server's artifact proxy (``ProxyDestination``): the server owns its
artifact root, which may be a bucket only it can write, and the proxy applies its permissions.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, BinaryIO, Protocol
from urllib.parse import quote

from marshmallow import Schema

from registry.artifacts import CHUNK_SIZE, FileInfo, Readable
from registry.errors import ArtifactNotFound
from registry.store.imports import (
    ImportedExperiment,
    ImportedLoggedModel,
    ImportedModelVersion,
    ImportedRegisteredModel,
    ImportedRun,
    RunSummary,
    records,
)
from registry.wire import imports as wire

DIGEST_BATCH = 10
"""Registered models whose digests one ``/imports/digests`` request records."""

OURS = "/api/2.0/modelyard"
CHUNK_POINTS = 100_000
"""Metric points per request at most (about 5 MB of JSON, under the server's 16 MB limit)."""
ARTIFACT_PROXY = "/api/2.0/mlflow-artifacts"
JSON = dict[str, Any]


class Transport(Protocol):
    """What the import needs of ``registry.client.transport.Transport``."""

    def call(
        self, method: str, endpoint: str, body: JSON | None = None, *, prefix: str = ...
    ) -> JSON:
        """Send one JSON request; raise the server's error as a ``RegistryError``."""
        ...

    def upload(self, artifact_path: str, src: Path) -> None:
        """PUT a file's bytes to the artifact proxy."""
        ...

    def download(self, artifact_path: str, dst: Path) -> None:
        """Fetch one artifact into ``dst`` (``ArtifactNotFound`` when missing)."""
        ...

    def list_artifacts(self, artifact_dir: str) -> list[JSON]:
        """The entries of one artifact directory."""
        ...

    def close(self) -> None:
        """Close the connections."""
        ...


class ServerTarget:
    """An ``ImportTarget`` that is a Modelyard server's import API."""

    def __init__(self, url: str, transport: Transport) -> None:
        """Talk to the server at ``url`` (``http(s)://host:port``) through ``transport``."""
        self.description = url
        self.transport = transport

    def close(self) -> None:
        """Close the connections."""
        self.transport.close()

    def _post(self, endpoint: str, body: JSON, answer: Schema | None = None) -> JSON:
        data = self.transport.call("POST", f"imports/{endpoint}", body, prefix=OURS)
        if answer is None:
            return data
        loaded: JSON = answer.load(data)
        return loaded

    def read_experiments(self) -> dict[int, ImportedExperiment]:
        """Every experiment held, by id."""
        data = self._post("experiments/held", {}, wire.ExperimentsSchema())
        found = [records.experiment(e) for e in data["experiments"]]
        return {e.experiment_id: e for e in found}

    def import_experiment(self, experiment: ImportedExperiment) -> None:
        """Create or update one experiment under its own id."""
        self._post("experiments", records.record(experiment))

    def sync_experiment_ids(self) -> None:
        """Nothing to do: the server moves its id sequence with each experiment."""

    def run_summaries(self, run_ids: Sequence[str]) -> dict[str, RunSummary]:
        """The summaries of the runs held among ``run_ids``, 1,000 ids a request."""
        found: dict[str, RunSummary] = {}
        for start in range(0, len(run_ids), 1000):
            body = {"run_ids": list(run_ids[start : start + 1000])}
            data = self._post("runs/summaries", body, wire.RunSummariesSchema())
            found.update({i: records.summary(s) for i, s in data["summaries"].items()})
        return found

    def import_runs(self, runs: Sequence[ImportedRun]) -> None:
        """Write ``runs``: whole in one request, or a long history in pieces."""
        whole = [run for run in runs if len(run.metrics) <= CHUNK_POINTS]
        if whole:
            self._post("runs", {"runs": [records.run_record(run) for run in whole]})
        for run in runs:
            for start in range(0, len(run.metrics) if len(run.metrics) > CHUNK_POINTS else 0,
                               CHUNK_POINTS):  # fmt: skip
                piece = run.metrics[start : start + CHUNK_POINTS]
                self._post("runs", {"runs": [records.run_record(run, piece)]})

    def read_run(self, run_id: str) -> ImportedRun | None:
        """One run as held, whole."""
        data = self._post("runs/held", {"run_id": run_id}, wire.RunAnswerSchema())
        return None if data["run"] is None else records.run(data["run"])

    def read_logged_models(self, model_ids: Sequence[str]) -> dict[str, ImportedLoggedModel]:
        """The logged models held among ``model_ids``."""
        found: dict[str, ImportedLoggedModel] = {}
        for start in range(0, len(model_ids), 1000):
            body = {"model_ids": list(model_ids[start : start + 1000])}
            data = self._post("logged-models/held", body, wire.LoggedModelsSchema())
            found.update({m["model_id"]: records.logged_model(m) for m in data["logged_models"]})
        return found

    def import_logged_model(self, model: ImportedLoggedModel) -> None:
        """Create or update one logged model."""
        self._post("logged-models", records.record(model))

    def read_registered_models(self, names: Iterable[str]) -> dict[str, ImportedRegisteredModel]:
        """The registered models held among ``names``."""
        wanted = list(names)
        found: dict[str, ImportedRegisteredModel] = {}
        for start in range(0, len(wanted), 1000):
            body = {"names": wanted[start : start + 1000]}
            data = self._post("registered-models/held", body, wire.RegisteredModelsSchema())
            found.update(
                {m["name"]: records.registered_model(m) for m in data["registered_models"]}
            )
        return found

    def import_registered_model(self, model: ImportedRegisteredModel) -> None:
        """Create or update one registered model."""
        self._post("registered-models", records.record(model))

    def read_model_versions(self, name: str) -> dict[int, ImportedModelVersion]:
        """Every version of ``name`` held, by number."""
        data = self._post("model-versions/held", {"name": name}, wire.ModelVersionsSchema())
        return {v["version"]: records.model_version(v) for v in data["model_versions"]}

    def import_model_version(self, version: ImportedModelVersion) -> None:
        """Write one version whole."""
        self._post("model-versions", records.record(version))

    def import_aliases(self, name: str, aliases: Mapping[str, int], timestamp: int) -> None:
        """Make the model's aliases exactly ``aliases``."""
        self._post("aliases", {"name": name, "aliases": dict(aliases), "timestamp": timestamp})

    def record_digests(self, names: Sequence[str]) -> list[tuple[str, int]]:
        """Have the server record the digests from the files it now stores.

        A few models a request: the server hashes every version of each named model, which for
        all of them at once could outlast the client's timeout (and then be sent again).
        """
        missing: list[tuple[str, int]] = []
        ordered = list(names)
        for start in range(0, len(ordered), DIGEST_BATCH):
            group = ordered[start : start + DIGEST_BATCH]
            data = self._post("digests", {"names": group}, wire.DigestsSchema())
            missing.extend((v["name"], v["version"]) for v in data["missing"])
        return missing


class ProxyDestination:
    """The server's artifact root seen through its artifact proxy (an ``ArtifactStore``)."""

    def __init__(self, transport: Transport) -> None:
        """Read and write through ``transport``; files are spooled in a private temp folder."""
        self._transport = transport
        self._spool = Path(tempfile.mkdtemp(prefix="modelyard-import-"))

    def close(self) -> None:
        """Remove the spool folder."""
        shutil.rmtree(self._spool, ignore_errors=True)

    def put(self, path: str, src: Readable) -> int:
        """Upload the bytes of ``src`` to ``path`` (spooled to a file first)."""
        spooled = self._spool / "upload"
        size = 0
        with spooled.open("wb") as out:
            while chunk := src.read(CHUNK_SIZE):
                out.write(chunk)
                size += len(chunk)
        try:
            self._transport.upload(path, spooled)
        finally:
            spooled.unlink(missing_ok=True)
        return size

    def open(self, path: str) -> BinaryIO:
        """The stored file at ``path``, downloaded (``ArtifactNotFound`` when missing)."""
        local = self._spool / "download"
        self._transport.download(path, local)
        stream = local.open("rb")
        local.unlink()  # the open stream keeps the bytes until it is closed
        return stream

    def list(self, prefix: str) -> list[FileInfo]:
        """The direct children of ``prefix``."""
        try:
            entries = self._transport.list_artifacts(prefix)
        except ArtifactNotFound:
            return []
        return sorted(
            (
                FileInfo(e["path"].rsplit("/", 1)[-1], bool(e.get("is_dir")), _size(e))
                for e in entries
            ),
            key=lambda info: info.path,
        )

    def delete(self, prefix: str) -> None:
        """Remove the file or folder at ``prefix``."""
        self._transport.call(
            "DELETE", f"artifacts/{quote(prefix, safe='/')}", prefix=ARTIFACT_PROXY
        )


def _size(entry: JSON) -> int | None:
    size = entry.get("file_size")
    return None if size is None else int(size)
