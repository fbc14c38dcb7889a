"""The ``MLmodel`` file: read and write it as MLflow 3.17 does, plus our integrity hashes."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

import registry
from registry.errors import InvalidParameter
from registry.models.schema import ModelSignature

MLMODEL_FILE = "MLmodel"
MLFLOW_VERSION = "3.17.2"

_KNOWN_KEYS = (
    "artifact_path",
    "flavors",
    "file_hashes",
    "metadata",
    "mlflow_version",
    "model_id",
    "model_size_bytes",
    "model_uuid",
    "modelyard_version",
    "run_id",
    "saved_input_example_info",
    "signature",
    "utc_time_created",
)


@dataclass
class MLModel:
    """The parsed ``MLmodel`` file of a model directory."""

    flavors: dict[str, dict[str, Any]] = field(default_factory=dict)
    run_id: str | None = None
    model_id: str | None = None
    model_uuid: str | None = None
    artifact_path: str | None = None
    utc_time_created: str | None = None
    signature: ModelSignature | None = None
    saved_input_example_info: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None
    model_size_bytes: int | None = None
    mlflow_version: str | None = MLFLOW_VERSION
    modelyard_version: str | None = registry.__version__
    file_hashes: dict[str, str] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Return the YAML document, omitting empty optional keys."""
        doc: dict[str, Any] = dict(self.extra)
        doc.update(
            {
                "artifact_path": self.artifact_path,
                "flavors": self.flavors,
                "mlflow_version": self.mlflow_version,
                "model_id": self.model_id,
                "model_size_bytes": self.model_size_bytes,
                "model_uuid": self.model_uuid,
                "modelyard_version": self.modelyard_version,
                "run_id": self.run_id,
                "saved_input_example_info": self.saved_input_example_info,
                "signature": self.signature.to_dict() if self.signature else None,
                "utc_time_created": self.utc_time_created,
                "metadata": self.metadata,
                "file_hashes": self.file_hashes,
            }
        )
        return {k: v for k, v in sorted(doc.items()) if v is not None}

    @staticmethod
    def from_dict(doc: dict[str, Any]) -> MLModel:
        """Build from a parsed YAML document; unknown keys are kept in ``extra``.

        Raises:
            InvalidParameter: ``flavors`` is not a mapping or the signature is malformed.
        """
        flavors = doc.get("flavors") or {}
        if not isinstance(flavors, dict):
            raise InvalidParameter("MLmodel: 'flavors' must be a mapping")
        signature = doc.get("signature")
        return MLModel(
            flavors=flavors,
            run_id=_opt_str(doc.get("run_id")),
            model_id=_opt_str(doc.get("model_id")),
            model_uuid=_opt_str(doc.get("model_uuid")),
            artifact_path=_opt_str(doc.get("artifact_path")),
            utc_time_created=_opt_str(doc.get("utc_time_created")),
            signature=ModelSignature.from_dict(signature) if signature else None,
            saved_input_example_info=doc.get("saved_input_example_info"),
            metadata=doc.get("metadata"),
            model_size_bytes=doc.get("model_size_bytes"),
            mlflow_version=_opt_str(doc.get("mlflow_version")),
            modelyard_version=_opt_str(doc.get("modelyard_version")),
            file_hashes=doc.get("file_hashes"),
            extra={k: v for k, v in doc.items() if k not in _KNOWN_KEYS},
        )

    @property
    def python_function(self) -> dict[str, Any] | None:
        """The ``python_function`` flavor block, if the model has one."""
        return self.flavors.get("python_function")


def _opt_str(value: Any) -> str | None:
    return None if value is None else str(value)


def now_utc() -> str:
    """The current time in MLflow's ``utc_time_created`` format."""
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def read_mlmodel(path: str | Path) -> MLModel:
    """Read ``MLmodel`` from a model directory (or the file itself).

    Raises:
        InvalidParameter: there is no ``MLmodel`` file, or it is not valid YAML.
    """
    file = Path(path)
    if file.is_dir():
        file = file / MLMODEL_FILE
    if not file.is_file():
        raise InvalidParameter(f"{path} is not a model directory: it has no {MLMODEL_FILE} file")
    try:
        doc = yaml.safe_load(file.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise InvalidParameter(f"{file} is not valid YAML: {exc}") from exc
    if not isinstance(doc, dict):
        raise InvalidParameter(f"{file} does not hold a YAML mapping")
    return MLModel.from_dict(doc)


def write_mlmodel(path: str | Path, model: MLModel) -> None:
    """Write ``model`` as ``<path>/MLmodel``."""
    text = yaml.safe_dump(model.to_dict(), default_flow_style=False, sort_keys=True)
    (Path(path) / MLMODEL_FILE).write_text(text, encoding="utf-8")


def hash_files(model_dir: Path) -> dict[str, str]:
    """Return the sha256 of every file under ``model_dir`` except ``MLmodel``, by POSIX path."""
    return {
        file.relative_to(model_dir).as_posix(): _sha256(file)
        for file in sorted(model_dir.rglob("*"))
        if file.is_file() and file.relative_to(model_dir).as_posix() != MLMODEL_FILE
    }


def verify_file_hashes(model_dir: Path, model: MLModel, needed: list[str]) -> None:
    """Check the recorded hashes before anything in the directory is deserialised.

    ``needed`` lists the files the loader will read; each must be recorded, so an edited
    ``MLmodel`` cannot point the loader at an unrecorded file.

    Raises:
        InvalidParameter: a file was modified, removed, or is needed but not recorded.
    """
    hashes = model.file_hashes
    if hashes is None:
        return
    for name in needed:
        if Path(name).as_posix() not in hashes:
            raise InvalidParameter(f"model file {name} is not listed in MLmodel file_hashes")
    for name, expected in hashes.items():
        file = inside(model_dir, name)
        if not file.is_file():
            raise InvalidParameter(f"model file {name} is missing (listed in file_hashes)")
        if _sha256(file) != expected:
            raise InvalidParameter(f"model file {name} was modified (sha256 mismatch)")


def inside(model_dir: Path, relative: str) -> Path:
    """Resolve a path named in ``MLmodel``, refusing one that leaves the model directory.

    Raises:
        InvalidParameter: the path is absolute or escapes ``model_dir``.
    """
    root = model_dir.resolve()
    resolved = (root / relative).resolve()
    if not resolved.is_relative_to(root):
        raise InvalidParameter(f"model file {relative} is outside the model directory")
    return resolved


def _sha256(file: Path) -> str:
    digest = hashlib.sha256()
    with file.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
