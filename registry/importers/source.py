"""What an import reads from: the contract every MLflow source (database, REST) fulfils.

Records carry the source's own artifact URIs; the runner rewrites them (``uris.py``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Protocol

from registry.store.imports import (
    ImportedExperiment,
    ImportedLoggedModel,
    ImportedModelVersion,
    ImportedRegisteredModel,
    ImportedRun,
    RunSummary,
)


class MlflowSource(Protocol):
    """One consistent view of an MLflow deployment's tracking and registry data."""

    description: str
    """How reports name the source (its URI without a password)."""

    def experiments(self) -> list[ImportedExperiment]:
        """Every experiment, active or deleted, with its tags."""
        ...

    def run_ids(self, since: int | None) -> list[str]:
        """Ids of the runs to consider: all, or those touched at or after ``since`` (ms).

        A run counts as touched when it started, ended or was deleted at or after ``since``,
        or has not ended.
        """
        ...

    def run_summaries(self, run_ids: Sequence[str]) -> dict[str, RunSummary]:
        """The summary of each run, to compare with what the target holds."""
        ...

    def runs(self, run_ids: Sequence[str]) -> Iterator[ImportedRun]:
        """The runs, whole (every metric point), in the order given."""
        ...

    def logged_models(self, since: int | None) -> list[ImportedLoggedModel]:
        """MLflow 3 logged models (none for an MLflow 2 source)."""
        ...

    def registered_models(self, since: int | None) -> list[ImportedRegisteredModel]:
        """Registered models with tags and aliases, updated at or after ``since`` when given."""
        ...

    def model_versions(self, name: str) -> list[ImportedModelVersion]:
        """Every version of a model, deleted ones (tombstones) included, by number."""
        ...

    def close(self) -> None:
        """Release the connection (and end the snapshot)."""
        ...
