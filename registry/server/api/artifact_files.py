"""MLflow's file downloads for its web UI, each file sent as an attachment.

``get-artifact`` (a run's file), ``model-versions/get-artifact`` and
``ajax-api/2.0/mlflow/logged-models/{model_id}/artifacts/files``. Every file goes out as an
attachment named after it, with ``nosniff``, as MLflow sends it. The type is MLflow's guess from
the name, except that a type a browser could run script from (HTML, SVG, XML, JavaScript) is
sent as ``text/plain`` where MLflow sends it as guessed: bytes a user uploaded never become a
page on the server's origin, whatever a browser does with the attachment.
"""

from __future__ import annotations

import mimetypes
import posixpath

from flask import Blueprint, Response, send_file

from registry.artifacts.paths import safe_relative_path
from registry.auth.enforce import level_on
from registry.auth.levels import Level
from registry.errors import InvalidParameter, PermissionDenied
from registry.server.api import artifact_store, config, parse, run_artifact_root
from registry.server.hardening import auth_memo, current_principal, default_level
from registry.services import versions
from registry.store import logged_models
from registry.store import model_versions as version_store
from registry.store.permissions import experiment_of_artifact_path
from registry.store.rows import Run
from registry.store.runs import get_run_row
from registry.wire import ui as schemas

bp = Blueprint("artifact_files", __name__)

_TEXT_EXTENSIONS = frozenset(
    {
        *("txt", "log", "err", "cfg", "conf", "cnf", "cf", "ini", "properties", "prop", "hocon"),
        *("toml", "yaml", "yml", "xml", "json", "js", "py", "py3", "csv", "tsv", "md", "rst"),
        *("ipynb", "MLmodel", "MLproject"),
    }
)
"""MLflow's text extensions (``mlflow.utils.mime_type_utils``): served as text/plain."""
_ACTIVE_TYPES = frozenset({"text/html", "application/xhtml+xml", "image/svg+xml", "text/xsl"})
_RUNS_SCHEME = "runs:/"


@bp.get("/get-artifact")
def run_file() -> Response:
    """One file of a run's artifacts.

    Raises:
        InvalidParameter: the path could leave the run's artifacts, or no run id is given.
        NotFound: no such run; ArtifactNotFound: no such file.
    """
    args = parse(schemas.RunArtifactArgs())
    run_id = args.get("run_id") or args.get("run_uuid")
    if not run_id:
        raise InvalidParameter("Request must specify run_id or run_uuid.")
    return _send(_run_root(run_id), args["path"])


@bp.get("/model-versions/get-artifact")
def version_file() -> Response:
    """One file of a model version's artifacts (where ``get-download-uri`` points).

    Raises:
        InvalidParameter: the path could leave the version's artifacts, or they are not stored
            on this server.
        NotFound: no such model or version; ArtifactNotFound: no such file.
    """
    args = parse(schemas.VersionArtifactArgs())
    found = version_store.get_model_version(args["name"], versions.parse_version(args["version"]))
    root, experiment_id = _root_of(versions.download_uri(found))
    _check_readable(experiment_id)
    return _send(root, args["path"])


@bp.get("/ajax-api/2.0/mlflow/logged-models/<model_id>/artifacts/files")
def logged_model_file(model_id: str) -> Response:
    """One file of a logged model's artifacts.

    Raises:
        InvalidParameter: no ``artifact_file_path``, or it could leave the model's artifacts.
        NotFound: no such logged model; ArtifactNotFound: no such file.
    """
    args = parse(schemas.LoggedModelFileArgs())
    model = logged_models.get_logged_model(model_id).model
    default = f"{model.experiment_id}/models/{model_id}/artifacts"
    return _send(run_artifact_root(model.artifact_uri, default), args["artifact_file_path"])


def _run_root(run_id: str) -> str:
    return _root_of_run(get_run_row(run_id))


def _root_of_run(run: Run) -> str:
    return run_artifact_root(run.artifact_uri, f"{run.experiment_id}/{run.run_uuid}/artifacts")


def _root_of(uri: str) -> tuple[str, int | None]:
    """The artifact-store prefix behind a version's files, and the experiment that owns it."""
    if uri.startswith(_RUNS_SCHEME):
        run_id, _, inside = uri[len(_RUNS_SCHEME) :].strip("/").partition("/")
        run = get_run_row(run_id)
        return posixpath.join(_root_of_run(run), safe_relative_path(inside)), run.experiment_id
    root = run_artifact_root(uri, "")
    if not root:
        raise InvalidParameter(f"The artifacts at {uri!r} are not stored on this server.")
    return root, experiment_of_artifact_path(root)


def _check_readable(experiment_id: int | None) -> None:
    """Under ``--auth``, the caller must read the experiment a version's files belong to.

    Creating a version already needs READ on what its source names; this also covers versions
    made before that check, or whose run later moved out of the caller's reach.
    """
    principal = current_principal()
    if not config().auth or principal is None or principal.is_admin:
        return
    if experiment_id is None:
        raise PermissionDenied("Only an admin may reach artifacts no run or experiment owns.")
    level = level_on(principal, "experiment", experiment_id, default_level(config()), auth_memo())
    if level < Level.READ:
        raise PermissionDenied(f"Permission denied: READ on experiment {experiment_id} is needed.")


def _send(root: str, path: str) -> Response:
    relative = safe_relative_path(path)
    if not relative:
        raise InvalidParameter(f"Invalid path {path!r}: it names a directory, not a file.")
    name = posixpath.basename(relative)
    stream = artifact_store().open(f"{root}/{relative}")
    response = send_file(
        stream, mimetype=artifact_type(name), as_attachment=True, download_name=name, etag=False
    )
    response.headers["Content-Type"] = response.mimetype  # no charset, as MLflow sends it
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def artifact_type(name: str) -> str:
    """The Content-Type of a file called ``name``: MLflow's guess, made safe for a browser."""
    extension = posixpath.splitext(name)[1].lstrip(".") or name
    if extension in _TEXT_EXTENSIONS:
        return "text/plain"
    guessed = mimetypes.guess_type(name)[0] or "application/octet-stream"
    if guessed in _ACTIVE_TYPES or "script" in guessed or guessed.endswith(("/xml", "+xml")):
        return "text/plain"
    return guessed
