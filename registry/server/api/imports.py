"""Ours, admin only: land another server's data with its own ids, numbers and times.

``modelyard import mlflow --to http://...`` compares through the ``.../held`` and
``runs/summaries`` reads and writes through the others; each write is the store's import
function (``registry.store.imports``), one transaction per request, so a run or a version lands
whole or not at all and writing it again duplicates nothing. Artifact locations and version
sources pass the very checks the regular API makes (``validate_artifact_location``,
``validate_source``): an import cannot point an experiment where the regular API would not.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify
from marshmallow import Schema

from registry.server.api import OUR_PREFIX, artifact_store, config, parse
from registry.services.approval_policies import check_imported_aliases, check_imported_stage
from registry.services.sources import validate_run_id, validate_source
from registry.services.versions import backfill_digests
from registry.store import imports as store
from registry.store.imports import records
from registry.store.validation import validate_artifact_location
from registry.wire import imports as wire

bp = Blueprint("imports", __name__)
_BASE = f"{OUR_PREFIX}/imports"


def _answer(schema: Schema, body: dict[str, Any]) -> Response:
    return jsonify(schema.dump(body))


def _written(count: int = 1) -> Response:
    return _answer(wire.WrittenSchema(), {"written": count})


@bp.post(f"{_BASE}/experiments")
def import_experiment() -> Response:
    """Create or update one experiment under its own id, with exactly its tags."""
    args = parse(wire.ExperimentSchema())
    validate_artifact_location(args["artifact_location"], config())
    store.import_experiment(records.experiment(args))
    store.sync_experiment_ids()
    return _written()


@bp.post(f"{_BASE}/experiments/held")
def held_experiments() -> Response:
    """The experiments of this server with their tags (those of ``experiment_ids`` if given)."""
    args = parse(wire.ExperimentIdsSchema())
    wanted = args["experiment_ids"]
    held = [
        records.record(e)
        for e in store.read_experiments().values()
        if wanted is None or e.experiment_id in wanted
    ]
    return _answer(wire.ExperimentsSchema(), {"experiments": held})


@bp.post(f"{_BASE}/runs")
def import_runs() -> Response:
    """Write runs whole (rows, params, tags, metric points, inputs) in one transaction."""
    args = parse(wire.RunsSchema())
    for run in args["runs"]:
        validate_run_id(run["run_id"])
        validate_artifact_location(run["artifact_uri"], config())
    store.import_runs([records.run(data) for data in args["runs"]])
    return _written(len(args["runs"]))


@bp.post(f"{_BASE}/runs/summaries")
def run_summaries() -> Response:
    """The summary of each of the given runs that this server holds."""
    args = parse(wire.RunIdsSchema())
    found = store.run_summaries(args["run_ids"])
    body = {"summaries": {i: records.summary_record(s) for i, s in found.items()}}
    return _answer(wire.RunSummariesSchema(), body)


@bp.post(f"{_BASE}/runs/held")
def held_run() -> Response:
    """One run as held here, whole (every metric point); ``run`` is null when absent."""
    args = parse(wire.RunIdSchema())
    found = store.read_run(args["run_id"])
    body = {"run": None if found is None else records.run_record(found)}
    return _answer(wire.RunAnswerSchema(), body)


@bp.post(f"{_BASE}/logged-models")
def import_logged_model() -> Response:
    """Create or update one logged model under its own id, with exactly its params and tags."""
    args = parse(wire.LoggedModelSchema())
    validate_artifact_location(args["artifact_uri"], config())
    store.import_logged_model(records.logged_model(args))
    return _written()


@bp.post(f"{_BASE}/logged-models/held")
def held_logged_models() -> Response:
    """The logged models among the given ids that this server holds."""
    args = parse(wire.ModelIdsSchema())
    held = [records.record(m) for m in store.read_logged_models(args["model_ids"]).values()]
    return _answer(wire.LoggedModelsSchema(), {"logged_models": held})


@bp.post(f"{_BASE}/registered-models")
def import_registered_model() -> Response:
    """Create or update one registered model (description, times, tags)."""
    args = parse(wire.RegisteredModelSchema())
    store.import_registered_model(records.registered_model(args))
    return _written()


@bp.post(f"{_BASE}/registered-models/held")
def held_registered_models() -> Response:
    """The registered models among the given names that this server holds."""
    args = parse(wire.NamesSchema())
    held = [records.record(m) for m in store.read_registered_models(args["names"]).values()]
    return _answer(wire.RegisteredModelsSchema(), {"registered_models": held})


@bp.post(f"{_BASE}/model-versions")
def import_model_version() -> Response:
    """Write one version whole under its own number; a new stage is recorded in the history."""
    args = parse(wire.ModelVersionSchema())
    if args["run_id"]:
        validate_run_id(args["run_id"])
    if args["current_stage"] != wire.TOMBSTONE_STAGE:  # a tombstone's source is never resolved
        validate_source(args["source"], args["run_id"] or None, config())
    version = records.model_version(args)
    check_imported_stage(version.name, version.version, version.current_stage)
    store.import_model_version(version)
    return _written()


@bp.post(f"{_BASE}/model-versions/held")
def held_model_versions() -> Response:
    """Every version (tombstones included) of one registered model held here."""
    args = parse(wire.NameSchema())
    held = [records.record(v) for v in store.read_model_versions(args["name"]).values()]
    return _answer(wire.ModelVersionsSchema(), {"model_versions": held})


@bp.post(f"{_BASE}/aliases")
def import_aliases() -> Response:
    """Make a model's aliases exactly these; each change is recorded in the history."""
    args = parse(wire.AliasesSchema())
    check_imported_aliases(args["name"], args["aliases"])
    store.import_aliases(args["name"], args["aliases"], args["timestamp"])
    return _written()


@bp.post(f"{_BASE}/digests")
def record_digests() -> Response:
    """Record the model digests of the named models' versions from the files now stored."""
    args = parse(wire.NamesSchema())
    done = backfill_digests(config(), artifact_store(), names=set(args["names"]))
    missing = [{"name": v.name, "version": v.version} for v in done if v.digest is None]
    return _answer(wire.DigestsSchema(), {"missing": missing})
