"""What the client returns: small frozen dataclasses with MLflow's attribute names.

Each ``from_dict`` reads the JSON shape of MLflow's wire protocol (missing repeated fields are
empty, ids are strings, non-finite doubles arrive as ``"NaN"``/``"Infinity"`` strings).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any, TypeVar

JSON = dict[str, Any]
T = TypeVar("T")


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


def _tags(items: list[JSON] | None) -> dict[str, str]:
    return {t["key"]: t.get("value", "") for t in items or []}


def _int(value: Any) -> int | None:
    return None if value is None or value == "" else int(value)


@dataclass(frozen=True)
class Metric:
    """One metric point."""

    key: str
    value: float
    timestamp: int
    step: int = 0
    run_id: str | None = None
    model_id: str | None = None

    @classmethod
    def from_dict(cls, d: JSON) -> Metric:
        """Read a wire ``Metric``."""
        return cls(
            d["key"],
            float(d["value"]),
            int(d.get("timestamp", 0)),
            int(d.get("step", 0)),
            d.get("run_id"),
            d.get("model_id"),
        )


@dataclass(frozen=True)
class Param:
    """One run parameter (values are strings, as in MLflow)."""

    key: str
    value: str


@dataclass(frozen=True)
class RunTag:
    """One run tag."""

    key: str
    value: str


@dataclass(frozen=True)
class RunInfo:
    """A run's metadata (``run.info``)."""

    run_id: str
    experiment_id: str
    run_name: str
    user_id: str
    status: str
    start_time: int | None
    end_time: int | None
    artifact_uri: str
    lifecycle_stage: str

    @property
    def run_uuid(self) -> str:
        """MLflow's deprecated name for ``run_id``."""
        return self.run_id

    @classmethod
    def from_dict(cls, d: JSON) -> RunInfo:
        """Read a wire ``RunInfo``."""
        return cls(
            run_id=d.get("run_id") or d["run_uuid"],
            experiment_id=str(d.get("experiment_id", "")),
            run_name=d.get("run_name", ""),
            user_id=d.get("user_id", ""),
            status=d.get("status", "RUNNING"),
            start_time=_int(d.get("start_time")),
            end_time=_int(d.get("end_time")),
            artifact_uri=d.get("artifact_uri", ""),
            lifecycle_stage=d.get("lifecycle_stage", "active"),
        )


@dataclass(frozen=True)
class RunData:
    """A run's latest metrics, params and tags as dicts (``run.data``)."""

    metrics: dict[str, float] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, d: JSON) -> RunData:
        """Read a wire ``RunData``."""
        return cls(
            {m["key"]: float(m["value"]) for m in d.get("metrics") or []},
            {p["key"]: p.get("value", "") for p in d.get("params") or []},
            _tags(d.get("tags")),
        )


@dataclass(frozen=True)
class Run:
    """A run: ``run.info`` and ``run.data``, plus the models it logged."""

    info: RunInfo
    data: RunData
    model_outputs: tuple[str, ...] = ()

    @classmethod
    def from_dict(cls, d: JSON) -> Run:
        """Read a wire ``Run``."""
        outputs = (d.get("outputs") or {}).get("model_outputs") or []
        return cls(
            RunInfo.from_dict(d["info"]),
            RunData.from_dict(d.get("data") or {}),
            tuple(o["model_id"] for o in outputs),
        )


@dataclass(frozen=True)
class Experiment:
    """An experiment."""

    experiment_id: str
    name: str
    artifact_location: str
    lifecycle_stage: str
    tags: dict[str, str] = field(default_factory=dict)
    creation_time: int | None = None
    last_update_time: int | None = None

    @classmethod
    def from_dict(cls, d: JSON) -> Experiment:
        """Read a wire ``Experiment``."""
        return cls(
            str(d["experiment_id"]),
            d.get("name", ""),
            d.get("artifact_location", ""),
            d.get("lifecycle_stage", "active"),
            _tags(d.get("tags")),
            _int(d.get("creation_time")),
            _int(d.get("last_update_time")),
        )


@dataclass(frozen=True)
class FileInfo:
    """One entry of an artifact listing."""

    path: str
    is_dir: bool
    file_size: int | None = None


@dataclass(frozen=True)
class LoggedModel:
    """An MLflow 3 logged model: files under ``artifact_uri``, linked to its run."""

    model_id: str
    experiment_id: str
    name: str
    artifact_uri: str
    status: str
    source_run_id: str | None
    tags: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    metrics: tuple[Metric, ...] = ()
    creation_timestamp: int | None = None
    last_updated_timestamp: int | None = None

    @classmethod
    def from_dict(cls, d: JSON) -> LoggedModel:
        """Read a wire ``LoggedModel`` (``{"info", "data"}``)."""
        info, data = d["info"], d.get("data") or {}
        return cls(
            info["model_id"],
            str(info.get("experiment_id", "")),
            info.get("name", ""),
            info.get("artifact_uri", ""),
            info.get("status", "LOGGED_MODEL_PENDING"),
            info.get("source_run_id") or None,
            _tags(info.get("tags")),
            {p["key"]: p.get("value", "") for p in data.get("params") or []},
            tuple(Metric.from_dict(m) for m in data.get("metrics") or []),
            _int(info.get("creation_timestamp_ms")),
            _int(info.get("last_updated_timestamp_ms")),
        )


@dataclass(frozen=True)
class ModelVersion:
    """One version of a registered model."""

    name: str
    version: str
    current_stage: str
    source: str
    run_id: str | None
    status: str
    description: str = ""
    tags: dict[str, str] = field(default_factory=dict)
    aliases: tuple[str, ...] = ()
    model_id: str | None = None
    user_id: str = ""
    creation_timestamp: int | None = None
    last_updated_timestamp: int | None = None

    @classmethod
    def from_dict(cls, d: JSON) -> ModelVersion:
        """Read a wire ``ModelVersion``."""
        return cls(
            d["name"],
            str(d["version"]),
            d.get("current_stage", "None"),
            d.get("source", ""),
            d.get("run_id") or None,
            d.get("status", "READY"),
            d.get("description", ""),
            _tags(d.get("tags")),
            tuple(d.get("aliases") or ()),
            d.get("model_id") or None,
            d.get("user_id", ""),
            _int(d.get("creation_timestamp")),
            _int(d.get("last_updated_timestamp")),
        )


@dataclass(frozen=True)
class RegisteredModel:
    """A registered model: its name, latest version per stage, tags and aliases."""

    name: str
    description: str = ""
    latest_versions: tuple[ModelVersion, ...] = ()
    tags: dict[str, str] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)
    creation_timestamp: int | None = None
    last_updated_timestamp: int | None = None

    @classmethod
    def from_dict(cls, d: JSON) -> RegisteredModel:
        """Read a wire ``RegisteredModel``."""
        return cls(
            d["name"],
            d.get("description", ""),
            tuple(ModelVersion.from_dict(v) for v in d.get("latest_versions") or []),
            _tags(d.get("tags")),
            {a["alias"]: str(a["version"]) for a in d.get("aliases") or []},
            _int(d.get("creation_timestamp")),
            _int(d.get("last_updated_timestamp")),
        )


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


@dataclass(frozen=True)
class Transition:
    """One entry of a registered model's history: a stage change or an alias move (ours)."""

    id: str
    name: str
    version: str | None
    kind: str
    from_value: str | None
    to_value: str | None
    user_id: str
    timestamp: int
    comment: str = ""
    alias: str | None = None
    rollback_of: str | None = None

    @classmethod
    def from_dict(cls, d: JSON) -> Transition:
        """Read one history entry of ``/api/2.0/modelyard/registered-models/history``."""
        return cls(
            str(d["id"]),
            d["name"],
            d.get("version"),
            d.get("kind", ""),
            d.get("from"),
            d.get("to"),
            d.get("user_id", ""),
            int(d.get("timestamp", 0)),
            d.get("comment") or "",
            d.get("alias"),
            d.get("rollback_of"),
        )


@dataclass(frozen=True)
class VersionLineage:
    """Where a model version came from: its run, logged model, git commit, source and user."""

    model_version: ModelVersion
    run: JSON | None
    logged_model: JSON | None
    git_commit: str = ""
    source_name: str = ""
    user: str = ""

    @classmethod
    def from_dict(cls, d: JSON) -> VersionLineage:
        """Read the reply of ``/api/2.0/modelyard/model-versions/lineage``."""
        return cls(
            ModelVersion.from_dict(d["model_version"]),
            d.get("run"),
            d.get("logged_model"),
            d.get("git_commit", ""),
            d.get("source_name", ""),
            d.get("user", ""),
        )
