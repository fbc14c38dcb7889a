"""Writes that bring another tracking server's data in with its own ids and times kept.

The normal write functions give out new ids and stamp the current time; an import must keep the
source's run ids, experiment ids, version numbers and timestamps. Each function here owns its
transaction and lands one whole entity (a run with its params, tags, metric history and inputs;
a model version with its tags and stage), so nothing half-imported is ever visible. Writing the
same entity again converges on the source's state and duplicates nothing.
"""

from registry.store.imports.entities import (
    DEFAULT_EXPERIMENT_ID,
    IMPORT_COMMENT,
    ImportedExperiment,
    ImportedLoggedModel,
    ImportedModelVersion,
    ImportedRegisteredModel,
    ImportedRun,
    RunSummary,
)
from registry.store.imports.registry import (
    import_aliases,
    import_model_version,
    import_registered_model,
    read_model_versions,
    read_registered_models,
)
from registry.store.imports.tracking import (
    import_experiment,
    import_logged_model,
    import_runs,
    read_experiments,
    read_logged_models,
    read_run,
    run_summaries,
    sync_experiment_ids,
)

__all__ = [
    "DEFAULT_EXPERIMENT_ID",
    "IMPORT_COMMENT",
    "ImportedExperiment",
    "ImportedLoggedModel",
    "ImportedModelVersion",
    "ImportedRegisteredModel",
    "ImportedRun",
    "RunSummary",
    "import_aliases",
    "import_experiment",
    "import_logged_model",
    "import_model_version",
    "import_registered_model",
    "import_runs",
    "read_experiments",
    "read_logged_models",
    "read_model_versions",
    "read_registered_models",
    "read_run",
    "run_summaries",
    "sync_experiment_ids",
]
