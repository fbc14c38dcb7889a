"""Registered models: the list, a model's versions and history, a version's lineage.

Every change (stage, alias, rollback) goes through ``registry.services`` so that the same rules
apply as for the API; a refusal is flashed on the page the button was on.
"""

from __future__ import annotations

from flask import flash, render_template, request, url_for
from werkzeug.wrappers import Response

from registry.errors import InvalidParameter
from registry.server.ui import version_page
from registry.server.ui.pages import artifact_store, back, make_blueprint
from registry.server.ui.requests import tab_context
from registry.services import aliases, history, stages
from registry.services.lineage import version_lineage
from registry.services.versions import parse_version
from registry.store import model_lists
from registry.store.model_versions import update_model_version
from registry.store.registered_models import get_registered_model, update_registered_model
from registry.store.run_tables import run_names

bp = make_blueprint("models", __name__, url_prefix="/models")


@bp.get("/")
def index() -> str:
    """Every registered model with its versions, stage holders and aliases."""
    return render_template("models/index.html", summaries=model_lists.model_summaries())


@bp.get("/<path:name>")
def show(name: str) -> str:
    """A model's versions, the buttons that move stages and aliases, and its history."""
    model = get_registered_model(name)
    versions = model_lists.listed_versions(model)
    return render_template(
        "models/show.html",
        model=model,
        versions=versions,
        aliases=model_lists.version_aliases(model),
        run_names=run_names([v.run_id for v in versions if v.run_id]),
        transitions=history.model_history(name, max_results=200).transitions,
        stages=version_page.stage_choices(),
        **tab_context(name),
    )


@bp.get("/<path:name>/versions/<version>")
def version(name: str, version: str) -> str:
    """One version: lineage, signature, input example, and how to load and serve it."""
    found, lineage = version_lineage(name, parse_version(version))
    directory = version_page.model_dir(found)
    if not version_page.files_readable(directory):
        directory = None
    mlmodel = version_page.read_mlmodel(artifact_store(), directory)
    return render_template(
        "models/version.html",
        name=name,
        version=found,
        lineage=version_page.visible_lineage(lineage),
        mlmodel=mlmodel,
        aliases=model_lists.version_aliases(found.registered_model).get(found.version, []),
    )


@bp.post("/<path:name>/description")
def describe(name: str) -> Response:
    """Replace the model's description."""
    update_registered_model(name, request.form.get("description", "").strip())
    return back(url_for("models.show", name=name))


@bp.post("/<path:name>/versions/<version>/description")
def describe_version(name: str, version: str) -> Response:
    """Replace a version's description."""
    number = parse_version(version)
    update_model_version(name, number, request.form.get("description", "").strip())
    return back(url_for("models.version", name=name, version=number))


@bp.post("/<path:name>/versions/<version>/stage")
def transition(name: str, version: str) -> Response:
    """Move a version to a stage (optionally archiving the stage's other versions)."""
    number = parse_version(version)
    stage = request.form.get("stage", "")
    archive = request.form.get("archive_existing") == "on"
    stages.transition_stage(name, number, stage, archive_existing_versions=archive)
    flash(f"Version {number} moved to {stage}.", "ok")
    return back(url_for("models.show", name=name))


@bp.post("/<path:name>/aliases")
def set_alias(name: str) -> Response:
    """Point an alias at a version (moving it if it exists)."""
    alias = request.form.get("alias", "").strip()
    number = parse_version(request.form.get("version", ""))
    aliases.set_alias(name, alias, number)
    flash(f"@{alias} now points at version {number}.", "ok")
    return back(url_for("models.show", name=name))


@bp.post("/<path:name>/aliases/delete")
def delete_alias(name: str) -> Response:
    """Remove an alias."""
    alias = request.form.get("alias", "")
    aliases.delete_alias(name, alias)
    flash(f"@{alias} removed.", "ok")
    return back(url_for("models.show", name=name))


@bp.post("/<path:name>/rollback")
def rollback(name: str) -> Response:
    """Give a stage (``stage:Production``) or alias (``alias:champion``) to its previous holder.

    Raises:
        InvalidParameter: the target is neither a stage nor an alias.
    """
    kind, _, value = request.form.get("target", "").partition(":")
    if kind not in ("stage", "alias") or not value:
        raise InvalidParameter("Choose a stage or an alias to roll back.")
    entries = history.rollback(name, **{kind: value})
    moved = ", ".join(_describe(e.kind, e.alias_name, e.version, e.to_value) for e in entries)
    flash(f"Rolled back {value}: {moved or 'no change'}.", "ok")
    return back(url_for("models.show", name=name))


def _describe(kind: str, alias: str | None, version: int | None, to_value: str) -> str:
    if kind == "alias":
        return f"@{alias} → version {to_value}" if to_value else f"@{alias} removed"
    return f"version {version} → {to_value}"
