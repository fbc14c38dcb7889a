"""What the client returns: small frozen dataclasses with MLflow's attribute names.

The entities of the wire protocol are declared once in ``registry.wire`` (each field with its
wire field, ``from_dict`` loads with the derived schema); they are re-exported here.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TypeVar

from registry.wire.artifacts import FileInfo
from registry.wire.logged_models import LoggedModel
from registry.wire.registry import ModelVersion, RegisteredModel, Transition, VersionLineage
from registry.wire.tracking import Experiment, Metric, Param, Run, RunData, RunInfo, RunTag

T = TypeVar("T")


__all__ = [
    "Experiment",
    "FileInfo",
    "LoggedModel",
    "Metric",
    "ModelInfo",
    "ModelVersion",
    "PagedList",
    "Param",
    "RegisteredModel",
    "Run",
    "RunData",
    "RunInfo",
    "RunTag",
    "Transition",
    "VersionLineage",
    "ViewType",
]


class ViewType(enum.IntEnum):
    """Which lifecycle stages a search covers (MLflow's ``ViewType``)."""

    ACTIVE_ONLY = 1
    DELETED_ONLY = 2
    ALL = 3

    @classmethod
    def to_wire(cls, value: ViewType | int | str) -> str:
        """The enum name the server expects, from a ViewType, its int or its name."""
        if isinstance(value, str):
            return cls[value.upper()].name
        return cls(value).name


class PagedList(list[T]):
    """A list of search results with ``token``: the next page's token ("" on the last page)."""

    def __init__(self, items: list[T], token: str = "") -> None:
        super().__init__(items)
        self.token = token


@dataclass(frozen=True)
class ModelInfo:
    """What ``log_model`` returns: where the model is and how to load it."""

    model_id: str
    model_uri: str
    name: str
    run_id: str | None
    artifact_uri: str
    flavors: tuple[str, ...] = ()
    registered_model_version: str | None = None

    @property
    def artifact_path(self) -> str:
        """MLflow 2's name for the model's path within its run."""
        return self.name
