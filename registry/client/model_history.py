"""Ours, beyond MLflow: a model's stage and alias history, holders at a time, rollback, lineage.

These call ``/api/2.0/modelyard/...``; the official MLflow client has no equivalent.
"""

from __future__ import annotations

from registry.client.base import ClientBase
from registry.client.transport import OURS
from registry.entities import ModelVersion, PagedList, Transition, VersionLineage


class ModelHistoryMixin(ClientBase):
    """Transition history, stage/alias holders at a time, rollback and lineage."""

    def get_model_history(
        self,
        name: str,
        version: str | int | None = None,
        max_results: int = 100,
        page_token: str | None = None,
    ) -> PagedList[Transition]:
        """One page of a model's stage changes and alias moves, newest first.

        Raises:
            NotFound: no such registered model.
        """
        body = {
            "name": name,
            "version": None if version is None else str(version),
            "max_results": max_results,
            "page_token": page_token,
        }
        return self._page(
            "GET", "registered-models/history", body, "transitions", Transition.from_dict, OURS
        )

    def get_version_holders(
        self,
        name: str,
        stage: str | None = None,
        alias: str | None = None,
        at: int | None = None,
    ) -> list[str]:
        """The versions that held ``stage`` (or ``alias``) at time ``at`` (ms; default now).

        Raises:
            NotFound: no such registered model.
            InvalidParameter: neither or both of ``stage`` and ``alias`` given.
        """
        body = {"name": name, "stage": stage, "alias": alias, "at": at}
        reply = self._call(
            "GET",
            "registered-models/holders",
            {k: v for k, v in body.items() if v is not None},
            prefix=OURS,
        )
        return [str(v) for v in reply.get("versions") or []]

    def rollback(
        self, name: str, stage: str | None = None, alias: str | None = None, comment: str = ""
    ) -> list[Transition]:
        """Give ``stage`` (or ``alias``) back to the version that held it before.

        Raises:
            InvalidState: there is no earlier holder to go back to.
        """
        body = {"name": name, "stage": stage or "", "alias": alias or "", "comment": comment}
        reply = self._call("POST", "registered-models/rollback", body, prefix=OURS)
        return [Transition.from_dict(t) for t in reply.get("transitions") or []]

    def get_model_version_lineage(self, name: str, version: str | int) -> VersionLineage:
        """A version with its run (params, metrics, tags, datasets) and logged model.

        Raises:
            NotFound: no such version.
        """
        body = {"name": name, "version": str(version)}
        return VersionLineage.from_dict(
            self._call("GET", "model-versions/lineage", body, prefix=OURS)
        )

    def get_model_versions_by_run(self, run_id: str) -> list[ModelVersion]:
        """Every model version registered from a run."""
        reply = self._call("GET", "model-versions/by-run", {"run_id": run_id}, prefix=OURS)
        return [ModelVersion.from_dict(v) for v in reply.get("model_versions") or []]
