"""Registered models: the list, a model's versions and history, a version's lineage.

Every change (stage, alias, rollback) goes through ``registry.services`` so that the same rules
apply as for the API; a refusal is flashed on the page the button was on.
"""

from __future__ import annotations

from flask import flash, render_template, request, url_for
from werkzeug.wrappers import Response

from registry.errors import InvalidParameter
from registry.server.api import request_user
from registry.server.ui import version_page
from registry.server.ui.pages import artifact_store, back, make_blueprint
from registry.server.ui.requests import tab_context
from registry.services import aliases, history, stages
from registry.services.lineage import version_lineage
from registry.services.versions import parse_version
from registry.store import model_lists
from registry.store.model_versions import (
    delete_model_version_tag,
    set_model_version_tag,
    tags_by_version,
    update_model_version,
)
from registry.store.registered_models import (
    delete_registered_model_tag,
    get_registered_model,
    set_registered_model_tag,
    tags_by_model,
    update_registered_model,
)
from registry.store.registry_search import search_registered_models
from registry.store.run_tables import run_names
from registry.store.validation import validate_length
from registry.wire.registry import MAX_TAG_KEY_LENGTH, MAX_TEXT_LENGTH

bp = make_blueprint("models", __name__, url_prefix="/models")


@bp.get("/")
def index() -> str:
    """Every registered model with its versions, stage holders and aliases.

    ``?q=`` keeps the models whose name contains it, in any case.
    """
    search = request.args.get("q", "").strip()
    summaries = model_lists.model_summaries()
    if search:
        names = _names_containing(search)
        summaries = [s for s in summaries if s.model.name in names]
    return render_template("models/index.html", summaries=summaries, search=search)


def _names_containing(text: str) -> set[str]:
    """The visible models' names that contain ``text`` (any case), via the registry search.

    The text is one quoted string of the filter grammar (its quotes doubled), which the store
    binds as a parameter. The grammar's ``%`` and ``_`` are wildcards, so matches are checked
    again here as plain substrings.
    """
    quoted = "'%" + text.replace("'", "''") + "%'"
    wanted = text.casefold()
    names: set[str] = set()
    token = ""
    while True:
        page, next_token = search_registered_models(f"name ILIKE {quoted}", [], 1000, token)
        names.update(m.name for m in page if wanted in m.name.casefold())
        if not next_token:
            return names
        token = next_token


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
        tag_items=[(t.key, t.value) for t in tags_by_model([model.id])[model.id]],
        **tab_context(name),
    )


@bp.get("/<path:name>/versions/<version>")
def version(name: str, version: str) -> str:
    """One version: lineage, signature, input example, and how to load and serve it."""
    found, lineage = version_lineage(name, parse_version(version))
    directory = version_page.model_dir(found)
    if not version_page.files_readable(directory):
        directory = None
    store = artifact_store()
    mlmodel = version_page.read_mlmodel(store, directory)
    return render_template(
        "models/version.html",
        name=name,
        version=found,
        lineage=version_page.visible_lineage(lineage),
        mlmodel=mlmodel,
        model_files=version_page.model_files(store, directory),
        aliases=model_lists.version_aliases(found.registered_model).get(found.version, []),
        tag_items=[(t.key, t.value) for t in tags_by_version([found.id]).get(found.id, [])],
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


@bp.post("/<path:name>/tags")
def set_tag(name: str) -> Response:
    """Add or change one of the model's tags."""
    key, value = _tag_form()
    set_registered_model_tag(name, key, value, user_id=request_user())
    return back(url_for("models.show", name=name))


@bp.post("/<path:name>/tags/delete")
def delete_tag(name: str) -> Response:
    """Remove one of the model's tags."""
    delete_registered_model_tag(name, request.form.get("key", ""), user_id=request_user())
    return back(url_for("models.show", name=name))


@bp.post("/<path:name>/versions/<version>/tags")
def set_version_tag(name: str, version: str) -> Response:
    """Add or change one of a version's tags."""
    number = parse_version(version)
    key, value = _tag_form()
    set_model_version_tag(name, number, key, value, user_id=request_user())
    return back(url_for("models.version", name=name, version=number))


@bp.post("/<path:name>/versions/<version>/tags/delete")
def delete_version_tag(name: str, version: str) -> Response:
    """Remove one of a version's tags."""
    number = parse_version(version)
    key = request.form.get("key", "")
    delete_model_version_tag(name, number, key, user_id=request_user())
    return back(url_for("models.version", name=name, version=number))


def _tag_form() -> tuple[str, str]:
    """The posted tag key and value, checked as the API's ``set-tag`` checks them.

    Raises:
        InvalidParameter: no key, or a key or value too long.
    """
    key = request.form.get("key", "").strip()
    value = request.form.get("value", "")
    if not key:
        raise InvalidParameter("Give the tag a key.")
    validate_length(key, MAX_TAG_KEY_LENGTH, "Tag key")
    validate_length(value, MAX_TEXT_LENGTH, "Tag value")
    return key, value


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
