"""One import: compare the source with the target, write what is new or changed, then check.

Order: experiments, runs (artifacts first, then the run in one transaction), logged models,
registered models, their versions (one transaction each) and aliases. A run or version whose
write fails is reported and the import goes on; a second import retries it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import partial
from typing import TypeVar

from registry.artifacts import ArtifactStore
from registry.errors import InvalidParameter, RegistryError
from registry.importers.artifact_copy import ArtifactCopier, TreeOpener
from registry.importers.checks import run_checks
from registry.importers.report import ImportReport, NoProgress, Progress, TableCounts
from registry.importers.source import MlflowSource
from registry.importers.target import ImportTarget
from registry.importers.uris import COPY, UriMapper
from registry.store.imports import (
    ImportedExperiment,
    ImportedLoggedModel,
    ImportedModelVersion,
    ImportedRun,
)
from registry.store.model_versions import DELETED as DELETED_VERSION

logger = logging.getLogger(__name__)
GROUP_RUNS = 100
GROUP_POINTS = 50_000
"""Runs are written in groups of whole runs, one transaction a group, up to these sizes: a
commit per run cost more than the run's rows on SQLite."""
K = TypeVar("K")


@dataclass(frozen=True)
class ImportOptions:
    """How to import.

    Attributes:
        artifacts: ``copy`` (into ``dest``) or ``keep`` (URIs unchanged, bytes left in place).
        from_artifacts: folder or ``s3://`` prefix behind the source's ``mlflow-artifacts:/``.
        dest: the destination artifact store (``copy`` only).
        open_tree: opens a source tree by location URI (to copy, and to check MLmodels).
        proxy_source: the source serves its artifacts itself (an MLflow server over REST).
        dry_run: compare and count, write nothing.
        since: only runs, logged models and registered models touched at or after (ms).
        digests: record the imported versions' model digests from the imported files (the
            import vouches for them, as a registration does), so our client and serving load
            them.
    """

    artifacts: str = COPY
    from_artifacts: str | None = None
    dest: ArtifactStore | None = None
    open_tree: TreeOpener | None = None
    proxy_source: bool = False
    dry_run: bool = False
    since: int | None = None
    digests: bool = True


@dataclass
class ImportContext:
    """What the steps of one import share."""

    source: MlflowSource
    target: ImportTarget
    options: ImportOptions
    report: ImportReport
    mapper: UriMapper
    copier: ArtifactCopier | None
    progress: Progress
    skipped_experiments: set[int]


def run_import(
    source: MlflowSource,
    target: ImportTarget,
    options: ImportOptions,
    progress: Progress | None = None,
) -> ImportReport:
    """Import everything in scope from ``source`` into ``target``.

    Raises:
        InvalidParameter: ``copy`` without a destination store.
    """
    progress = progress or NoProgress()
    experiments = source.experiments()
    mapper = UriMapper(
        options.artifacts,
        [(e.experiment_id, e.artifact_location) for e in experiments],
        options.from_artifacts,
        options.proxy_source,
    )
    copier = None
    if options.artifacts == COPY and not options.dry_run:
        if options.dest is None or options.open_tree is None:
            raise InvalidParameter("Copying artifacts needs a destination artifact root.")
        copier = ArtifactCopier(
            mapper, options.dest, options.open_tree, progress.bytes, progress.artifacts
        )
    report = ImportReport(dry_run=options.dry_run)
    if copier is not None:
        report.artifacts = copier.stats
    ctx = ImportContext(source, target, options, report, mapper, copier, progress, set())
    _experiments(ctx, experiments)
    selected = _runs(ctx)
    _logged_models(ctx)
    _registry(ctx)
    if not options.dry_run:
        _record_digests(ctx)
        run_checks(ctx, selected)
    return report


def _record_digests(ctx: ImportContext) -> None:
    if not ctx.options.digests:
        return
    names = sorted({model.name for model in ctx.source.registered_models(ctx.options.since)})
    if ctx.options.artifacts != COPY:
        if names:
            ctx.report.problems.append(
                "model digests not recorded: with --artifacts keep the files stay outside this"
                " server's store; list their location in REGISTRY_ALLOWED_ARTIFACT_LOCATIONS and"
                " run `modelyard models digest --backfill` once you have checked them"
            )
        return
    for name, version in ctx.target.record_digests(names):
        ctx.report.problems.append(
            f"version {version} of {name}: no model files to digest where its"
            " source points; our client and serving refuse it until"
            " `modelyard models digest --backfill` records one"
        )


def _attempt(ctx: ImportContext, table: str, what: str, write: Callable[[], None]) -> bool:
    counts = ctx.report.tables[table]
    try:
        write()
    except RegistryError as err:
        counts.failed += 1
        ctx.report.problems.append(f"{what}: {err.message}")
        return False
    except Exception as err:  # a database error on one entity must not stop the others
        logger.exception("import of %s failed", what)
        counts.failed += 1
        ctx.report.problems.append(f"{what}: {err}")
        return False
    counts.imported += 1
    ctx.progress.advance(table)
    return True


def _classify(counts: TableCounts, items: Sequence[tuple[K, object, object | None]]) -> list[K]:
    """Count (item, source state, target state) as new, changed or unchanged; return to-dos."""
    counts.source += len(items)
    todo = []
    for item, wanted, held in items:
        if held is None:
            counts.new += 1
        elif held != wanted:
            counts.changed += 1
        else:
            counts.unchanged += 1
            continue
        todo.append(item)
    return todo


def _experiments(ctx: ImportContext, experiments: Sequence[ImportedExperiment]) -> None:
    held = ctx.target.read_experiments()
    mapped = [
        replace(e, artifact_location=ctx.mapper.target_uri(e.artifact_location))
        for e in experiments
    ]
    todo = _classify(
        ctx.report.tables["experiments"], [(e, e, held.get(e.experiment_id)) for e in mapped]
    )
    if ctx.options.dry_run:
        return
    ctx.progress.start("experiments", len(todo))
    for experiment in todo:
        label = f"experiment {experiment.experiment_id}"
        if not _attempt(
            ctx, "experiments", label, partial(ctx.target.import_experiment, experiment)
        ):
            ctx.skipped_experiments.add(experiment.experiment_id)
    ctx.target.sync_experiment_ids()


def _runs(ctx: ImportContext) -> list[str]:
    counts = ctx.report.tables["runs"]
    ids = ctx.source.run_ids(ctx.options.since)
    wanted = ctx.source.run_summaries(ids)
    ids = [i for i in ids if i in wanted and wanted[i].fields[0] not in ctx.skipped_experiments]
    held = ctx.target.run_summaries(ids)
    todo = _classify(counts, [(i, wanted[i], held.get(i)) for i in ids])
    if ctx.options.dry_run:
        return ids
    ctx.progress.start("runs", len(todo))
    group: list[ImportedRun] = []
    for run in ctx.source.runs(todo):
        if ctx.copier is not None and run.artifact_uri:
            ctx.copier.copy_tree(run.artifact_uri)
        group.append(replace(run, artifact_uri=ctx.mapper.target_uri(run.artifact_uri)))
        if len(group) >= GROUP_RUNS or sum(len(r.metrics) for r in group) >= GROUP_POINTS:
            _write_runs(ctx, group)
            group = []
    _write_runs(ctx, group)
    return ids


def _write_runs(ctx: ImportContext, group: list[ImportedRun]) -> None:
    """Land a group of whole runs in one transaction; on failure, each run on its own."""
    if not group:
        return
    try:
        ctx.target.import_runs(group)
    except Exception:
        logger.info("a group of %d runs failed; writing them one by one", len(group))
        for run in group:
            _attempt(ctx, "runs", f"run {run.run_id}", partial(ctx.target.import_runs, [run]))
        return
    ctx.report.tables["runs"].imported += len(group)
    ctx.progress.advance("runs", len(group))


def _logged_models(ctx: ImportContext) -> None:
    models = [
        m
        for m in ctx.source.logged_models(ctx.options.since)
        if m.experiment_id not in ctx.skipped_experiments
    ]
    mapped = [replace(m, artifact_uri=ctx.mapper.target_uri(m.artifact_uri)) for m in models]
    held = ctx.target.read_logged_models([m.model_id for m in models])
    todo = _classify(
        ctx.report.tables["logged_models"], [(m, m, held.get(m.model_id)) for m in mapped]
    )
    if ctx.options.dry_run:
        return
    sources = {m.model_id: m.artifact_uri for m in models}
    ctx.progress.start("logged_models", len(todo))
    for model in todo:
        write = partial(_write_logged_model, ctx, model, sources[model.model_id])
        _attempt(ctx, "logged_models", f"logged model {model.model_id}", write)


def _write_logged_model(ctx: ImportContext, model: ImportedLoggedModel, source_uri: str) -> None:
    if ctx.copier is not None and source_uri:
        ctx.copier.copy_tree(source_uri)
    ctx.target.import_logged_model(model)


def _registry(ctx: ImportContext) -> None:
    models = ctx.source.registered_models(ctx.options.since)
    held = ctx.target.read_registered_models([m.name for m in models])
    todo = _classify(
        ctx.report.tables["registered_models"], [(m, m, held.get(m.name)) for m in models]
    )
    versions_todo: list[tuple[ImportedModelVersion, str]] = []
    failed: set[str] = set()
    for model in models:
        versions_todo += _versions_to_write(ctx, model.name)
    if ctx.options.dry_run:
        return
    ctx.progress.start("registered_models", len(todo))
    for model in todo:
        label = f"registered model {model.name}"
        if not _attempt(
            ctx, "registered_models", label, partial(ctx.target.import_registered_model, model)
        ):
            failed.add(model.name)
    ctx.progress.start("model_versions", len(versions_todo))
    for version, original_source in versions_todo:
        if version.name in failed:
            ctx.report.tables["model_versions"].failed += 1
            continue
        write = partial(_write_version, ctx, version, original_source)
        _attempt(ctx, "model_versions", f"version {version.version} of {version.name}", write)
    for model in models:
        if model.name not in failed:
            ctx.target.import_aliases(model.name, model.aliases, model.last_updated_timestamp)


def _write_version(ctx: ImportContext, version: ImportedModelVersion, source_uri: str) -> None:
    if ctx.copier is not None and source_uri != version.source:
        ctx.copier.copy_tree(source_uri)
    ctx.target.import_model_version(version)


def _versions_to_write(ctx: ImportContext, name: str) -> list[tuple[ImportedModelVersion, str]]:
    counts = ctx.report.tables["model_versions"]
    held = ctx.target.read_model_versions(name)
    pairs = []
    originals = {}
    for version in ctx.source.model_versions(name):
        mapped = version
        if version.current_stage != DELETED_VERSION and version.source.split(":", 1)[0] not in (
            "runs",
            "models",
        ):
            mapped = replace(version, source=ctx.mapper.target_uri(version.source))
        originals[version.version] = version.source
        pairs.append((mapped, mapped, held.get(version.version)))
    return [(v, originals[v.version]) for v in _classify(counts, pairs)]
