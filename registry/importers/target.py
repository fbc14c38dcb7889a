"""Where an import writes: the ``ImportTarget`` contract, and the store bound in this process.

The runner and the checks read and write the target only through this contract, so the same
import lands in a database opened here (``StoreTarget``) or in a running Modelyard server over
HTTP (``http_target.ServerTarget``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol

from registry.artifacts import ArtifactStore
from registry.config import Config
from registry.services.approval_policies import check_imported_aliases, check_imported_stage
from registry.services.versions import backfill_digests
from registry.store import imports as store
from registry.store.imports import (
    ImportedExperiment,
    ImportedLoggedModel,
    ImportedModelVersion,
    ImportedRegisteredModel,
    ImportedRun,
    RunSummary,
)


class ImportTarget(Protocol):
    """The Modelyard store an import compares with and writes to."""

    description: str

    def read_experiments(self) -> dict[int, ImportedExperiment]:
        """Every experiment held, by id."""
        ...

    def import_experiment(self, experiment: ImportedExperiment) -> None:
        """Create or update one experiment under its own id (``AlreadyExists`` on a clash)."""
        ...

    def sync_experiment_ids(self) -> None:
        """Let new experiments get ids past the imported ones."""
        ...

    def run_summaries(self, run_ids: Sequence[str]) -> dict[str, RunSummary]:
        """The summaries of the runs held among ``run_ids``."""
        ...

    def import_runs(self, runs: Sequence[ImportedRun]) -> None:
        """Write whole runs; all of them land, or none."""
        ...

    def read_run(self, run_id: str) -> ImportedRun | None:
        """One run as held, whole; None when absent."""
        ...

    def read_logged_models(self, model_ids: Sequence[str]) -> dict[str, ImportedLoggedModel]:
        """The logged models held among ``model_ids``."""
        ...

    def import_logged_model(self, model: ImportedLoggedModel) -> None:
        """Create or update one logged model under its own id."""
        ...

    def read_registered_models(self, names: Iterable[str]) -> dict[str, ImportedRegisteredModel]:
        """The registered models held among ``names``."""
        ...

    def import_registered_model(self, model: ImportedRegisteredModel) -> None:
        """Create or update one registered model (``AlreadyExists`` on a different one)."""
        ...

    def read_model_versions(self, name: str) -> dict[int, ImportedModelVersion]:
        """Every version of ``name`` held, by number."""
        ...

    def import_model_version(self, version: ImportedModelVersion) -> None:
        """Write one version whole under its own number."""
        ...

    def import_aliases(self, name: str, aliases: Mapping[str, int], timestamp: int) -> None:
        """Make the model's aliases exactly ``aliases``."""
        ...

    def record_digests(self, names: Sequence[str]) -> list[tuple[str, int]]:
        """Record the model digests of the imported versions of ``names`` from their files.

        Returns (name, version) of each version left without one (no model files found).
        """
        ...


class StoreTarget:
    """The database bound in this process (``registry.store``), written directly."""

    def __init__(
        self, description: str, config: Config | None = None, dest: ArtifactStore | None = None
    ) -> None:
        """Write to the bound store; ``config`` and ``dest`` let digests be recorded."""
        self.description = description
        self._config = config
        self._dest = dest

    def read_experiments(self) -> dict[int, ImportedExperiment]:
        """Every experiment held, by id."""
        return store.read_experiments()

    def import_experiment(self, experiment: ImportedExperiment) -> None:
        """Create or update one experiment under its own id."""
        store.import_experiment(experiment)

    def sync_experiment_ids(self) -> None:
        """Move the id sequence past the imported ids."""
        store.sync_experiment_ids()

    def run_summaries(self, run_ids: Sequence[str]) -> dict[str, RunSummary]:
        """The summaries of the runs held among ``run_ids``."""
        return store.run_summaries(run_ids)

    def import_runs(self, runs: Sequence[ImportedRun]) -> None:
        """Write whole runs in one transaction."""
        store.import_runs(runs)

    def read_run(self, run_id: str) -> ImportedRun | None:
        """One run as held, whole."""
        return store.read_run(run_id)

    def read_logged_models(self, model_ids: Sequence[str]) -> dict[str, ImportedLoggedModel]:
        """The logged models held among ``model_ids``."""
        return store.read_logged_models(model_ids)

    def import_logged_model(self, model: ImportedLoggedModel) -> None:
        """Create or update one logged model."""
        store.import_logged_model(model)

    def read_registered_models(self, names: Iterable[str]) -> dict[str, ImportedRegisteredModel]:
        """The registered models held among ``names``."""
        return store.read_registered_models(names)

    def import_registered_model(self, model: ImportedRegisteredModel) -> None:
        """Create or update one registered model."""
        store.import_registered_model(model)

    def read_model_versions(self, name: str) -> dict[int, ImportedModelVersion]:
        """Every version of ``name`` held."""
        return store.read_model_versions(name)

    def import_model_version(self, version: ImportedModelVersion) -> None:
        """Write one version whole (refused where it would bypass an approval policy)."""
        check_imported_stage(version.name, version.version, version.current_stage)
        store.import_model_version(version)

    def import_aliases(self, name: str, aliases: Mapping[str, int], timestamp: int) -> None:
        """Make the model's aliases exactly ``aliases`` (refused as ``import_model_version``)."""
        check_imported_aliases(name, aliases)
        store.import_aliases(name, aliases, timestamp)

    def record_digests(self, names: Sequence[str]) -> list[tuple[str, int]]:
        """Record digests from the files under the destination root (none without one)."""
        if self._config is None or self._dest is None:
            return []
        return [
            (v.name, v.version)
            for v in backfill_digests(self._config, self._dest, names=set(names))
            if v.digest is None
        ]
