"""Experiments: the searchable list, create, rename, delete, restore; description and tags."""

from __future__ import annotations

from flask import redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from registry.server.ui.pages import back, make_blueprint
from registry.store import experiments as experiment_store
from registry.store.experiment_lists import ExperimentSummary, experiment_summaries
from registry.store.rows import Experiment

bp = make_blueprint("experiments", __name__)
DESCRIPTION_TAG = "mlflow.note.content"


@bp.get("/")
def index() -> str:
    """The experiments list; ``?deleted=1`` lists deleted ones for restoring.

    ``?q=`` keeps the experiments whose name, description or a tag contains it (any case).
    """
    deleted = request.args.get("deleted") == "1"
    search = request.args.get("q", "").strip()
    summaries = experiment_summaries(deleted=deleted)
    records = experiment_store.with_tags(s.experiment for s in summaries)
    tags = {r.experiment.experiment_id: {t.key: t.value for t in r.tags} for r in records}
    if search:
        summaries = [s for s in summaries if _matches(s, tags[s.experiment.experiment_id], search)]
    return render_template(
        "experiments/index.html",
        summaries=summaries,
        tags=tags,
        deleted=deleted,
        search=search,
        DESCRIPTION_TAG=DESCRIPTION_TAG,
    )


def _matches(summary: ExperimentSummary, tags: dict[str, str], search: str) -> bool:
    needle = search.casefold()
    texts = [summary.experiment.name, *tags.values(), *(k for k in tags if k != DESCRIPTION_TAG)]
    return any(needle in text.casefold() for text in texts)


def experiment_tags(experiment: Experiment) -> dict[str, str]:
    """An experiment's tags by key (its description is the ``mlflow.note.content`` tag)."""
    (record,) = experiment_store.with_tags([experiment])
    return {tag.key: tag.value for tag in sorted(record.tags, key=lambda tag: tag.key)}


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


@bp.post("/experiments/<int:experiment_id>/description")
def describe(experiment_id: int) -> Response:
    """Set an experiment's description (markdown, kept in MLflow's ``mlflow.note.content``)."""
    text = request.form.get("description", "")
    experiment_store.set_experiment_tag(experiment_id, DESCRIPTION_TAG, text)
    return back(url_for("runs.table", experiment_id=experiment_id))


@bp.post("/experiments/<int:experiment_id>/tags")
def set_tag(experiment_id: int) -> Response:
    """Add or change one of an experiment's tags."""
    key = request.form.get("key", "").strip()
    experiment_store.set_experiment_tag(experiment_id, key, request.form.get("value", ""))
    return back(url_for("runs.table", experiment_id=experiment_id))


@bp.post("/experiments/<int:experiment_id>/tags/delete")
def delete_tag(experiment_id: int) -> Response:
    """Remove one of an experiment's tags."""
    experiment_store.delete_experiment_tag(experiment_id, request.form.get("key", ""))
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
