"""Custom Python models: subclass ``PythonModel``, save it with cloudpickle, serve it anywhere.

The directory ships a three-line loader module under ``code/`` (form C of MLflow's loader
algorithm), so ``mlflow.pyfunc.load_model`` loads it too, provided ``modelyard`` and
``cloudpickle`` are installed beside mlflow (the pickled class derives from ours).
"""

from __future__ import annotations

import inspect
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cloudpickle

from registry.errors import InvalidParameter
from registry.models.mlmodel import MLModel, inside, read_mlmodel, verify_file_hashes
from registry.models.runtime import Params, Runtime, add_code_dir
from registry.models.saving import SaveSpec, SignatureArg, python_function_block, save_model_dir

if TYPE_CHECKING:
    from registry.models.predictor import Predictor

LOADER_MODULE = "modelyard_pyfunc_loader"
PYTHON_MODEL_FILE = "python_model.pkl"
_LOADER_SOURCE = '''"""Loads a Modelyard custom Python model for mlflow.pyfunc (needs modelyard)."""

from registry.models.pyfunc import load_for_mlflow as _load_pyfunc  # noqa: F401
'''


@dataclass
class PythonModelContext:
    """What ``load_context`` and ``predict`` receive: artifact names mapped to absolute paths."""

    artifacts: dict[str, str] = field(default_factory=dict)
    model_config: dict[str, Any] = field(default_factory=dict)


class PythonModel:
    """Base class of custom models: override ``predict`` and, if needed, ``load_context``."""

    def load_context(self, context: PythonModelContext) -> None:
        """Load what ``predict`` needs from ``context.artifacts``, once, after unpickling."""

    def predict(
        self, context: PythonModelContext, model_input: Any, params: dict[str, Any] | None = None
    ) -> Any:
        """Return predictions for ``model_input`` (a DataFrame or array after enforcement)."""
        raise NotImplementedError(f"{type(self).__name__} must implement predict()")


def save_model(
    path: str | os.PathLike[str],
    python_model: PythonModel,
    artifacts: dict[str, str | os.PathLike[str]] | None = None,
    code_paths: list[str | os.PathLike[str]] | None = None,
    signature: SignatureArg = None,
    input_example: Any = None,
    metadata: dict[str, Any] | None = None,
    run_id: str | None = None,
    model_id: str | None = None,
    artifact_path: str | None = None,
) -> MLModel:
    """Save a ``PythonModel`` with its artifacts and code as a model directory.

    Artifacts are copied into ``artifacts/<name>/`` and handed to ``load_context`` as absolute
    paths; ``code_paths`` are copied into ``code/``, which is put on ``sys.path`` at load.

    Raises:
        InvalidParameter: ``python_model`` is not a ``PythonModel``, an artifact or code path
            does not exist, an artifact name is not a plain name, or ``path`` is not empty.
    """
    if not isinstance(python_model, PythonModel):
        raise InvalidParameter(
            "pyfunc.save_model expected an instance of registry.models.pyfunc.PythonModel, "
            f"got {type(python_model).__module__}.{type(python_model).__qualname__}"
        )
    sources = _check_sources(artifacts or {}, code_paths or [])
    layout = {name: _artifact_path(name, src) for name, src in sources[0].items()}
    payload = bytes(cloudpickle.dumps(python_model))

    def write_payload(staging: Path) -> None:
        (staging / PYTHON_MODEL_FILE).write_bytes(payload)
        for name, src in sources[0].items():
            _copy(src, staging / layout[name])
        (staging / "code").mkdir()
        (staging / "code" / f"{LOADER_MODULE}.py").write_text(_LOADER_SOURCE, encoding="utf-8")
        for src in sources[1]:
            _copy(src, staging / "code" / src.name)

    artifact_block = {name: {"path": rel} for name, rel in layout.items()}
    spec = SaveSpec(
        flavor_name="modelyard_pyfunc",
        flavor_conf={"cloudpickle_version": cloudpickle.__version__},
        python_function=python_function_block(
            LOADER_MODULE, code="code", python_model=PYTHON_MODEL_FILE, artifacts=artifact_block
        ),
        write_payload=write_payload,
        distributions=["modelyard", "cloudpickle", "numpy", "pandas"],
        signature=signature,
        input_example=input_example,
        metadata=metadata,
        stamps={"run_id": run_id, "model_id": model_id, "artifact_path": artifact_path},
    )
    return save_model_dir(path, spec)


def _check_sources(
    artifacts: dict[str, str | os.PathLike[str]], code_paths: list[str | os.PathLike[str]]
) -> tuple[dict[str, Path], list[Path]]:
    for name in artifacts:
        if not name or "/" in name or "\\" in name or name in (".", ".."):
            raise InvalidParameter(f"artifact name {name!r} must be a plain name")
    resolved = {name: Path(src) for name, src in artifacts.items()}
    code = [Path(p) for p in code_paths]
    for src in [*resolved.values(), *code]:
        if not src.exists():
            raise InvalidParameter(f"{src} does not exist")
    return resolved, code


def _artifact_path(name: str, src: Path) -> str:
    return f"artifacts/{name}" if src.is_dir() else f"artifacts/{name}/{src.name}"


def _copy(src: Path, dst: Path) -> None:
    if src.is_dir():
        shutil.copytree(src, dst)
    else:
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dst)


def load_python_model(model_dir: Path, mlmodel: MLModel) -> tuple[Any, PythonModelContext]:
    """Unpickle a saved ``PythonModel`` and call its ``load_context`` (hashes checked first).

    Raises:
        InvalidParameter: a file was tampered with or the pickle cannot be loaded.
    """
    conf = mlmodel.python_function or {}
    filename = str(conf.get("python_model", PYTHON_MODEL_FILE))
    file = inside(model_dir, filename)
    verify_file_hashes(model_dir, mlmodel, [filename])
    add_code_dir(model_dir, conf)
    artifacts = {
        name: str(inside(model_dir, str(entry["path"])))
        for name, entry in (conf.get("artifacts") or {}).items()
    }
    context = PythonModelContext(artifacts=artifacts, model_config=conf.get("model_config") or {})
    try:
        with file.open("rb") as handle:
            python_model = cloudpickle.load(handle)
    except (ImportError, AttributeError) as exc:
        raise InvalidParameter(f"cannot unpickle {filename}: {exc}") from exc
    python_model.load_context(context)
    return python_model, context


def runtime(python_model: Any, context: PythonModelContext) -> Runtime:
    """How to call a loaded ``PythonModel``: ``predict(context, data, params=...)``."""
    takes_params = "params" in inspect.signature(python_model.predict).parameters

    def predict(data: Any, params: Params) -> Any:
        if takes_params:
            return python_model.predict(context, data, params=params)
        return python_model.predict(context, data)

    return Runtime(model=python_model, predict=predict)


def load_model(path: str | os.PathLike[str]) -> Predictor:
    """Load any model directory as a ``Predictor``, like ``mlflow.pyfunc.load_model``.

    Raises:
        InvalidParameter: as ``registry.models.load_predictor``.
    """
    from registry.models.loader import load_predictor  # the loader imports this module

    return load_predictor(path)


class _MlflowPyfunc:
    def __init__(self, python_model: Any, context: PythonModelContext) -> None:
        self.python_model = python_model
        self._predict = runtime(python_model, context).predict

    def predict(self, model_input: Any, params: dict[str, Any] | None = None) -> Any:
        return self._predict(model_input, params)


def load_for_mlflow(path: str) -> _MlflowPyfunc:
    """MLflow's ``_load_pyfunc`` entry point: ``path`` is the model directory (or a file in it).

    Raises:
        InvalidParameter: as ``load_python_model``.
    """
    model_dir = Path(path) if Path(path).is_dir() else Path(path).parent
    return _MlflowPyfunc(*load_python_model(model_dir, read_mlmodel(model_dir)))
