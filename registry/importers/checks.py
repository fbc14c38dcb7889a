"""Checks after an import: counts, sampled runs field by field, stages and aliases.

Counts must be equal, a sample of runs identical field by field, and every stage and alias of
every registered model must resolve to a loadable MLmodel.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import yaml

from registry.errors import RegistryError
from registry.importers.uris import PROXY_SCHEME
from registry.store.imports import ImportedRun
from registry.store.model_versions import DELETED as DELETED_VERSION

if TYPE_CHECKING:
    from registry.importers.runner import ImportContext

SAMPLE_SIZE = 20


def run_checks(ctx: ImportContext, run_ids: Sequence[str]) -> None:
    """Append the results of every check to ``ctx.report.checks``."""
    checks = ctx.report.checks
    experiments = [
        e for e in ctx.source.experiments() if e.experiment_id not in ctx.skipped_experiments
    ]
    held = ctx.target.read_experiments()
    found = sum(1 for e in experiments if e.experiment_id in held)
    checks.append(("experiment count", found == len(experiments), f"{found}/{len(experiments)}"))
    wanted = ctx.source.run_summaries(run_ids)
    have = ctx.target.run_summaries(list(run_ids))
    same = sum(1 for i in run_ids if have.get(i) == wanted.get(i))
    points = (sum(s.points for s in wanted.values()), sum(s.points for s in have.values()))
    checks.append(("run count and summaries", same == len(run_ids), f"{same}/{len(run_ids)}"))
    checks.append(("metric point count", points[0] == points[1], f"{points[1]}/{points[0]}"))
    models = ctx.source.logged_models(ctx.options.since)
    stored = ctx.target.read_logged_models([m.model_id for m in models])
    checks.append(
        ("logged model count", len(stored) == len(models), f"{len(stored)}/{len(models)}")
    )
    _check_sample(ctx, run_ids)
    _check_registry(ctx)


def _check_sample(ctx: ImportContext, run_ids: Sequence[str]) -> None:
    sample = sorted(random.Random(0).sample(list(run_ids), min(SAMPLE_SIZE, len(run_ids))))
    differing = []
    for run in ctx.source.runs(sample):
        expected = replace(run, artifact_uri=ctx.mapper.target_uri(run.artifact_uri))
        stored = ctx.target.read_run(run.run_id)
        if stored is None or _comparable(stored) != _comparable(expected):
            differing.append(run.run_id)
    detail = f"{len(sample) - len(differing)}/{len(sample)} identical"
    if differing:
        detail += f"; differ: {', '.join(differing)}"
    ctx.report.checks.append(("sampled runs field by field", not differing, detail))


def _comparable(run: ImportedRun) -> tuple[Any, ...]:
    points = sorted(
        (p.key, p.step, p.timestamp, "nan" if math.isnan(p.value) else p.value, p.model_id or "")
        for p in run.metrics
    )
    datasets = sorted(
        (
            d.name,
            d.digest,
            d.source_type,
            d.source,
            d.schema or "",
            d.profile or "",
            sorted(d.tags.items()),
        )
        for d in run.datasets
    )
    return (
        run.row_fields(),
        run.artifact_uri,
        run.params,
        run.tags,
        points,
        datasets,
        sorted(run.model_inputs),
        sorted(run.model_outputs),
    )


def _check_registry(ctx: ImportContext) -> None:
    sources = ctx.source.registered_models(ctx.options.since)
    held = ctx.target.read_registered_models([m.name for m in sources])
    checks = ctx.report.checks
    checks.append(
        ("registered model count", len(held) == len(sources), f"{len(held)}/{len(sources)}")
    )
    wanted_versions = sum(len(ctx.source.model_versions(m.name)) for m in sources)
    versions = {m.name: ctx.target.read_model_versions(m.name) for m in sources if m.name in held}
    stored = sum(len(v) for v in versions.values())
    checks.append(("model version count", stored == wanted_versions, f"{stored}/{wanted_versions}"))
    failures, resolved = [], 0
    for name, by_number in versions.items():
        live = {n: v for n, v in by_number.items() if v.current_stage != DELETED_VERSION}
        targets = {
            f"models:/{name}/{stage}": max(n for n, v in live.items() if v.current_stage == stage)
            for stage in {v.current_stage for v in live.values()} - {"None"}
        }
        targets |= {f"models:/{name}@{a}": n for a, n in held[name].aliases.items()}
        for uri, number in sorted(targets.items()):
            problem = _loads(ctx, live.get(number))
            resolved += problem is None
            if problem:
                failures.append(f"{uri}: {problem}")
    detail = f"{resolved}/{resolved + len(failures)} resolve to an MLmodel"
    checks.append(("stages and aliases load", not failures, "; ".join([detail, *failures])))


def _loads(ctx: ImportContext, version: Any) -> str | None:
    if version is None:
        return "points at a missing version"
    location = _download_location(ctx, version.source)
    if location is None:
        return f"cannot resolve {version.source}"
    try:
        text = _read_mlmodel(ctx, location)
    except RegistryError as err:
        return err.message
    except OSError as err:
        return str(err)
    if text is None:
        return f"MLmodel not checked: {location} is not readable from here"
    document = yaml.safe_load(text)
    if not isinstance(document, dict) or "flavors" not in document:
        return f"{location}/MLmodel has no flavors"
    return None


def _download_location(ctx: ImportContext, source: str) -> str | None:
    if source.startswith("models:/m-"):
        model_id = source[len("models:/") :].split("/", 1)[0]
        found = ctx.target.read_logged_models([model_id]).get(model_id)
        return found.artifact_uri if found else None
    if source.startswith("runs:/"):
        run_id, _, path = source[len("runs:/") :].partition("/")
        run = ctx.target.read_run(run_id)
        return f"{run.artifact_uri}/{path}".rstrip("/") if run else None
    return source


def _read_mlmodel(ctx: ImportContext, location: str) -> str | None:
    if location.startswith(f"{PROXY_SCHEME}:") and ctx.options.dest is not None:
        path = location.split(":", 1)[1].lstrip("/")
        with ctx.options.dest.open(f"{path}/MLmodel") as stream:
            return stream.read().decode()
    source = ctx.mapper.source_location(location)
    if source is None or ctx.options.open_tree is None:
        return None
    with ctx.options.open_tree(source.uri).open("MLmodel") as stream:
        return stream.read().decode()
