"""A model version's lineage: the run it came from, that run's data and inputs, the logged model."""

from __future__ import annotations

from registry.store.lineage import (
    find_logged_model,
    find_run,
    logged_model_tags,
    run_dataset_inputs,
    run_latest_metrics,
    run_params,
    run_tags,
)
from registry.store.metrics import logged_value
from registry.store.model_versions import get_model_version
from registry.store.rows import LoggedModel, ModelVersion, Run
from registry.wire.base import JSON, View, encoder
from registry.wire.registry import LineageLoggedModelSchema, LineageRunSchema

GIT_COMMIT_TAG = "mlflow.source.git.commit"
SOURCE_NAME_TAG = "mlflow.source.name"
USER_TAG = "mlflow.user"

_RUN = encoder(LineageRunSchema)
_LOGGED_MODEL = encoder(LineageLoggedModelSchema)


def version_lineage(name: str, version: int) -> tuple[ModelVersion, JSON]:
    """The version and everything it came from, as JSON-ready parts.

    The parts are ``run`` (info, params, metrics, tags, dataset inputs; absent when the run is
    unknown), ``git_commit``, ``source_name``, ``user`` and ``logged_model``.

    Raises:
        NotFound: no such model or version.
    """
    found = get_model_version(name, version)
    parts: JSON = {}
    run = find_run(found.run_id) if found.run_id else None
    if run is not None:
        tags = {tag.key: tag.value for tag in run_tags(run)}
        parts["run"] = _run_part(run, tags)
        parts["git_commit"] = tags.get(GIT_COMMIT_TAG, "")
        parts["source_name"] = tags.get(SOURCE_NAME_TAG, "")
        parts["user"] = tags.get(USER_TAG, run.user_id)
    logged = find_logged_model(found.model_id) if found.model_id else None
    if logged is not None:
        parts["logged_model"] = _logged_model_part(logged)
    return found, parts


def _run_part(run: Run, tags: dict[str, str]) -> JSON:
    return _RUN(
        View(
            run,
            run_id=run.run_uuid,
            run_name=run.name,
            params=run_params(run),
            metrics=[  # the run's own points: no run_id, which the row would give
                View(m, value=logged_value(m.value, m.value_kind), run_id=None)
                for m in run_latest_metrics(run)
            ],
            tags=sorted(tags.items()),
            dataset_inputs=[
                {"dataset": dataset, "tags": input_tags}
                for dataset, input_tags in run_dataset_inputs(run)
            ],
        )
    )


def _logged_model_part(logged: LoggedModel) -> JSON:
    return _LOGGED_MODEL(View(logged, tags=logged_model_tags(logged)))
