"""Experiments: the list (with run counts and last activity), create, rename, delete, restore."""

from __future__ import annotations

from flask import redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from registry.server.ui.pages import back, make_blueprint
from registry.store import experiments as experiment_store
from registry.store.experiment_lists import experiment_summaries

bp = make_blueprint("experiments", __name__)


@bp.get("/")
def index() -> str:
    """The experiments list; ``?deleted=1`` lists deleted ones for restoring."""
    deleted = request.args.get("deleted") == "1"
    return render_template(
        "experiments/index.html",
        summaries=experiment_summaries(deleted=deleted),
        deleted=deleted,
    )


@bp.post("/experiments/create")
def create() -> Response:
    """Create an experiment and open it."""
    experiment = experiment_store.create_experiment(request.form.get("name", "").strip())
    return redirect(url_for("runs.table", experiment_id=experiment.experiment_id), code=303)


@bp.post("/experiments/<int:experiment_id>/rename")
def rename(experiment_id: int) -> Response:
    """Rename an experiment."""
    experiment_store.rename_experiment(experiment_id, request.form.get("name", "").strip())
    return back(url_for("runs.table", experiment_id=experiment_id))


@bp.post("/experiments/<int:experiment_id>/delete")
def delete(experiment_id: int) -> Response:
    """Soft-delete an experiment (it can be restored from the deleted list)."""
    experiment_store.delete_experiment(experiment_id)
    return redirect(url_for("experiments.index"), code=303)


@bp.post("/experiments/<int:experiment_id>/restore")
def restore(experiment_id: int) -> Response:
    """Restore a deleted experiment."""
    experiment_store.restore_experiment(experiment_id)
    return redirect(url_for("runs.table", experiment_id=experiment_id), code=303)
