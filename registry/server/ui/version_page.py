"""What a model version's page adds to the store's rows: its MLmodel, and a trimmed lineage.

The lineage keeps only the run and logged model of experiments the request's user may read.
"""

from __future__ import annotations

import json
import posixpath
from typing import Any

import yaml

from registry.artifacts import ArtifactStore
from registry.errors import ArtifactNotFound, InvalidParameter
from registry.server.ui import artifact_files
from registry.store.experiment_lists import readable_experiment_ids
from registry.store.lineage import find_logged_model, find_run
from registry.store.model_versions import STAGES
from registry.store.permissions import experiment_of_artifact_path, viewer_restricted
from registry.store.rows import ModelVersion

EXAMPLE_BYTES = 64 * 1024
MODEL_FILES = ("MLmodel", "requirements.txt", "conda.yaml", "python_env.yaml")


def visible_lineage(lineage: dict[str, Any]) -> dict[str, Any]:
    """``lineage`` without the run or logged model of an experiment the user may not read."""
    shown = dict(lineage)
    experiment_ids = {
        int(part["experiment_id"])
        for part in (lineage.get("run"), lineage.get("logged_model"))
        if part and str(part.get("experiment_id", "")).isdigit()
    }
    readable = readable_experiment_ids(experiment_ids)
    for part, details in (
        ("run", ("run", "git_commit", "source_name", "user")),
        ("logged_model", ("logged_model",)),
    ):
        found = lineage.get(part)
        if found and int(found.get("experiment_id", -1)) not in readable:
            for key in details:
                shown.pop(key, None)
    return shown


def stage_choices() -> tuple[str, ...]:
    """The stages a version may move to."""
    return STAGES


def model_dir(version: ModelVersion) -> str | None:
    """The artifact-store path of a version's model directory, when the server holds it."""
    source = version.source
    if source.startswith("models:/m-"):
        logged = find_logged_model(source[len("models:/") :])
        return _store_path(logged.artifact_uri) if logged is not None else None
    if source.startswith("runs:/"):
        run_id, _, rel = source[len("runs:/") :].partition("/")
        run = find_run(run_id)
        root = _store_path(run.artifact_uri) if run is not None else None
        return posixpath.join(root, rel).rstrip("/") if root else None
    return _store_path(source)


def files_readable(directory: str | None) -> bool:
    """Whether the request's user may read the experiment that owns a version's files.

    The page shows the MLmodel and input example only then: reading the model is not enough,
    as ``model-versions/get-artifact`` also asks READ on the experiment.
    """
    if directory is None:
        return False
    owner = experiment_of_artifact_path(directory)
    if owner is None:
        return not viewer_restricted()
    return bool(readable_experiment_ids({owner}))


def _store_path(uri: str) -> str | None:
    prefix = "mlflow-artifacts:/"
    return uri[len(prefix) :].strip("/") if uri.startswith(prefix) else None


def read_mlmodel(store: ArtifactStore, directory: str | None) -> dict[str, Any]:
    """``flavors``, ``signature`` (inputs/outputs/params as lists) and ``input_example`` text.

    Missing or unreadable files give an empty dict: the page then says there is none.
    """
    if directory is None:
        return {}
    try:
        with store.open(f"{directory}/MLmodel") as stream:
            mlmodel = yaml.safe_load(stream.read()) or {}
    except (ArtifactNotFound, InvalidParameter, yaml.YAMLError):
        return {}
    if not isinstance(mlmodel, dict):
        return {}
    found: dict[str, Any] = {"flavors": sorted((mlmodel.get("flavors") or {}).keys())}
    signature = mlmodel.get("signature") or {}
    found["signature"] = {
        part: _json_list(signature.get(part)) for part in ("inputs", "outputs", "params")
    }
    example = (mlmodel.get("saved_input_example_info") or {}).get("artifact_path")
    if example:
        try:
            with store.open(f"{directory}/{example}") as stream:
                found["input_example"] = stream.read(EXAMPLE_BYTES).decode("utf-8", "replace")
        except (ArtifactNotFound, InvalidParameter):
            pass
    return found


def model_files(store: ArtifactStore, directory: str | None) -> list[tuple[str, dict[str, Any]]]:
    """The model directory's MLmodel and environment files that exist, each as a text preview."""
    if directory is None:
        return []
    found = []
    for name in MODEL_FILES:
        try:
            found.append((name, artifact_files.preview(store, f"{directory}/{name}", "text")))
        except (ArtifactNotFound, InvalidParameter):
            continue
    return found


def _json_list(raw: Any) -> list[dict[str, Any]]:
    if not raw:
        return []
    try:
        value = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        return []
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []
