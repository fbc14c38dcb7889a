"""What every flavor's ``save_model`` shares: a staged directory, examples, env files, MLmodel."""

from __future__ import annotations

import logging
import os
import platform
import shutil
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from registry.errors import InvalidParameter
from registry.models.input_example import example_as_data, save_input_example
from registry.models.mlmodel import MLModel, hash_files, now_utc, write_mlmodel
from registry.models.requirements import CONDA_FILE, PYTHON_ENV_FILE, write_environment
from registry.models.schema import ModelSignature
from registry.models.signature import infer_schema

logger = logging.getLogger(__name__)

SignatureArg = ModelSignature | Literal[False] | None


@dataclass
class SaveSpec:
    """What a flavor contributes to a saved model directory."""

    flavor_name: str
    flavor_conf: dict[str, Any]
    python_function: dict[str, Any]
    write_payload: Callable[[Path], None]
    distributions: list[str]
    predict: Callable[[Any], Any] | None = None
    signature: SignatureArg = None
    input_example: Any = None
    metadata: dict[str, Any] | None = None
    stamps: dict[str, str | None] = field(default_factory=dict)


def python_function_block(loader_module: str, **conf: Any) -> dict[str, Any]:
    """The ``python_function`` flavor block MLflow's ``pyfunc.load_model`` reads."""
    return {
        "env": {"conda": CONDA_FILE, "virtualenv": PYTHON_ENV_FILE},
        "loader_module": loader_module,
        "python_version": platform.python_version(),
        **conf,
    }


def save_model_dir(path: str | os.PathLike[str], spec: SaveSpec) -> MLModel:
    """Write a complete model directory at ``path`` atomically and return its MLmodel.

    The directory is built in a temporary sibling and renamed into place, so a failure leaves
    nothing behind.

    Raises:
        InvalidParameter: ``path`` exists and is not an empty directory, or the payload,
            example or signature cannot be written.
    """
    target = Path(path)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise InvalidParameter(f"model path {target} already exists and is not empty")
    created = next((p for p in reversed(target.absolute().parents) if not p.exists()), None)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        model = _fill(staging, spec)
        if target.exists():
            target.rmdir()
        staging.rename(target)
    except BaseException:
        shutil.rmtree(created or staging, ignore_errors=True)
        raise
    logger.info("saved %s model to %s", spec.flavor_name, target)
    return model


def _fill(staging: Path, spec: SaveSpec) -> MLModel:
    spec.write_payload(staging)
    model = MLModel(
        flavors={"python_function": spec.python_function, spec.flavor_name: spec.flavor_conf},
        utc_time_created=now_utc(),
        metadata=spec.metadata,
        run_id=spec.stamps.get("run_id"),
        model_id=spec.stamps.get("model_id"),
        model_uuid=spec.stamps.get("model_id") or uuid.uuid4().hex,
        artifact_path=spec.stamps.get("artifact_path"),
    )
    example = None if spec.input_example is None else example_as_data(spec.input_example)
    if example is not None:
        model.saved_input_example_info = save_input_example(staging, example)
    model.signature = _signature(spec, example)
    write_environment(staging, spec.distributions)
    model.file_hashes = hash_files(staging)
    model.model_size_bytes = sum(f.stat().st_size for f in staging.rglob("*") if f.is_file())
    write_mlmodel(staging, model)
    return model


def _signature(spec: SaveSpec, example: Any) -> ModelSignature | None:
    if spec.signature is False:
        return None
    if spec.signature is not None:
        if not isinstance(spec.signature, ModelSignature):
            raise InvalidParameter(
                f"signature must be a ModelSignature, got {type(spec.signature).__name__}"
            )
        return spec.signature
    if example is None:
        return None
    outputs = None
    if spec.predict is not None:
        try:
            outputs = infer_schema(spec.predict(example))
        except Exception as exc:  # the model is user code; the input schema still counts
            logger.warning("could not infer the output schema from the input example: %s", exc)
    return ModelSignature(inputs=infer_schema(example), outputs=outputs)
