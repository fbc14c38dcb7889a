"""A run's page: facts, params, metrics and charts, tags, artifacts, logged models."""

from __future__ import annotations

from contextlib import suppress

from flask import current_app, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from registry.errors import AlreadyExists, InvalidParameter, NotFound
from registry.server.ui import artifact_files
from registry.server.ui.pages import artifact_store, back, make_blueprint
from registry.services.versions import register_version
from registry.store import run_data
from registry.store import runs as run_store
from registry.store.lineage import find_logged_model
from registry.store.metric_series import metric_histories
from registry.store.model_lists import model_names
from registry.store.model_versions import versions_for_run
from registry.store.registered_models import create_registered_model
from registry.store.run_details import run_detail

bp = make_blueprint("run", __name__, url_prefix="/runs")


@bp.get("/<run_id>")
def show(run_id: str) -> str:
    """The run page; ``?artifact=path`` opens a preview of that artifact."""
    run = run_store.get_run_row(run_id)
    detail = run_detail(run)
    store = artifact_store()
    root = artifact_files.run_root(run)
    nodes, cut = artifact_files.tree(store, root)
    selected = artifact_files.clean_path(request.args.get("artifact", ""))
    kind = artifact_files.preview_kind(selected) if selected else ""
    shown = None
    if selected and kind not in ("none", "image"):
        shown = artifact_files.preview(store, f"{root}/{selected}", kind)
    return render_template(
        "runs/show.html",
        detail=detail,
        run=run,
        tags=dict(detail.tags),
        histories=metric_histories([run.run_uuid]),
        nodes=nodes,
        tree_cut=cut,
        selected=selected,
        kind=kind,
        shown=shown,
        model_names=model_names(),
        model_dirs=artifact_files.model_dirs(nodes),
        registered_versions=versions_for_run(run.run_uuid),
    )


@bp.post("/<run_id>/tags")
def set_tag(run_id: str) -> Response:
    """Add or change a tag."""
    run_data.set_tag(run_id, request.form.get("key", "").strip(), request.form.get("value", ""))
    return back(url_for("run.show", run_id=run_id))


@bp.post("/<run_id>/tags/delete")
def delete_tag(run_id: str) -> Response:
    """Remove a tag."""
    run_data.delete_tag(run_id, request.form.get("key", ""))
    return back(url_for("run.show", run_id=run_id))


@bp.post("/<run_id>/delete")
def delete(run_id: str) -> Response:
    """Soft-delete the run."""
    run_store.delete_run(run_id)
    return back(url_for("run.show", run_id=run_id))


@bp.post("/<run_id>/restore")
def restore(run_id: str) -> Response:
    """Restore a deleted run."""
    run_store.restore_run(run_id)
    return back(url_for("run.show", run_id=run_id))


@bp.post("/<run_id>/register")
def register(run_id: str) -> Response:
    """Register a model the run logged (a logged model, or an artifact directory with an MLmodel).

    Raises:
        NotFound: the run logged no such model.
        InvalidParameter: no name was given.
    """
    name = request.form.get("name", "").strip()
    if not name:
        raise InvalidParameter("Give the registered model a name.")
    config = current_app.extensions["registry"].config
    model_id = request.form.get("model_id", "")
    if model_id:
        logged = find_logged_model(model_id)
        if logged is None or logged.source_run_id != run_id:
            raise NotFound(f"Run {run_id} logged no model {model_id!r}.")
        source = f"models:/{model_id}"
    else:
        run_store.get_run_row(run_id)
        path = artifact_files.clean_path(request.form.get("artifact_path", ""))
        source = f"runs:/{run_id}/{path}"
    with suppress(AlreadyExists):
        create_registered_model(name)
    if model_id:
        version = register_version(name, source, config, model_id=model_id)
    else:
        version = register_version(name, source, config, run_id=run_id)
    flash(f"Registered {name} version {version.version}.", "ok")
    return redirect(url_for("models.version", name=name, version=version.version), code=303)
