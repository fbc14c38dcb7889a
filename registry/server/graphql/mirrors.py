"""MLflow's GraphQL object types that mirror a REST entity, derived from that entity's wire schema.

``MlflowRun`` is ``registry.wire.tracking.Run``'s fields in GraphQL's camelCase, typed from their
wire fields (an ``Int64`` is MLflow's ``LongString``, a ``Double`` a ``Float``, a nested entity
its own mirror): a field is declared once, in the wire. What GraphQL adds (root fields, inputs,
enums, ``apiError``, MLflow's extra fields) is in ``schema.graphql``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from marshmallow import Schema, fields

from registry.wire import registry, tracking, ui
from registry.wire import responses as rs
from registry.wire.artifacts import ArtifactListing, FileInfo
from registry.wire.base import KeyValueSchema
from registry.wire.fields import Double, Int64, KeyValues


@dataclass(frozen=True)
class Mirror:
    """One GraphQL type made of a wire schema's fields.

    ``types`` names the GraphQL type of fields the wire field alone cannot tell (a tag list's
    item type, an enum, a nested entity mirrored under another name); ``only`` keeps some
    fields; ``api_error`` adds MLflow's ``apiError`` to a response wrapper.
    """

    name: str
    schema: type[Schema]
    types: Mapping[str, str] = field(default_factory=dict)
    only: tuple[str, ...] = ()
    api_error: bool = False


_METRIC_WITH_RUN_ID = ("key", "value", "timestamp", "step", "run_id")

# The first mirror of a schema names it where another entity nests it.
MIRRORS = (
    Mirror("MlflowExperimentTag", KeyValueSchema),
    Mirror("MlflowRunTag", KeyValueSchema),
    Mirror("MlflowParam", KeyValueSchema),
    Mirror("MlflowInputTag", KeyValueSchema),
    Mirror("MlflowModelVersionTag", KeyValueSchema),
    Mirror("MlflowExperiment", tracking.Experiment.Schema, {"tags": "MlflowExperimentTag"}),
    Mirror("MlflowRunInfo", tracking.RunInfo.Schema, {"status": "MlflowRunStatus"}),
    Mirror("MlflowMetricExtension", tracking.Metric.Schema),
    Mirror("MlflowModelMetric", tracking.Metric.Schema),
    Mirror("MlflowMetricWithRunId", tracking.Metric.Schema, only=_METRIC_WITH_RUN_ID),
    Mirror(
        "MlflowRunData",
        tracking.RunData.Schema,
        {"metrics": "MlflowMetricExtension", "params": "MlflowParam", "tags": "MlflowRunTag"},
    ),
    Mirror("MlflowDataset", tracking.Dataset.Schema),
    Mirror("MlflowDatasetInput", tracking.DatasetInput.Schema, {"tags": "MlflowInputTag"}),
    Mirror("MlflowModelInput", tracking.ModelInput.Schema),
    Mirror("MlflowModelOutput", tracking.ModelOutput.Schema),
    Mirror("MlflowRunInputs", tracking.RunInputs.Schema),
    Mirror("MlflowRunOutputs", tracking.RunOutputs.Schema),
    Mirror("MlflowRunExtension", tracking.Run.Schema),
    Mirror("MlflowFileInfo", FileInfo.Schema),
    Mirror("MlflowDatasetSummary", ui.DatasetSummary.Schema),
    Mirror(
        "MlflowModelVersion",
        registry.ModelVersion.Schema,
        {"status": "MlflowModelVersionStatus", "tags": "MlflowModelVersionTag"},
    ),
    Mirror("MlflowGetExperimentResponse", rs.EXPERIMENT, api_error=True),
    Mirror("MlflowGetRunResponse", rs.RUN, api_error=True),
    Mirror("MlflowSearchRunsResponse", rs.RUNS, api_error=True),
    Mirror("MlflowListArtifactsResponse", ArtifactListing.Schema, api_error=True),
    Mirror(
        "MlflowGetMetricHistoryBulkIntervalResponse",
        rs.METRIC_INTERVAL,
        {"metrics": "MlflowMetricWithRunId"},
        only=("metrics",),
        api_error=True,
    ),
    Mirror("MlflowSearchDatasetsResponse", ui.SearchDatasetsResponse, api_error=True),
    Mirror("MlflowSearchModelVersionsResponse", rs.MODEL_VERSIONS_PAGE, api_error=True),
)

_NESTED: dict[type[Schema], str] = {}
for _mirror in MIRRORS:
    _NESTED.setdefault(_mirror.schema, _mirror.name)


def camel_case(name: str) -> str:
    """A wire field's name as GraphQL spells it (``run_uuid`` -> ``runUuid``), as graphene does."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


@cache
def snake_case(name: str) -> str:
    """A GraphQL name as the wire spells it (``runUuid`` -> ``run_uuid``)."""
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)


def mirrors_sdl() -> str:
    """The mirrored types in GraphQL's schema language."""
    return "\n\n".join(_type_sdl(mirror) for mirror in MIRRORS)


def _type_sdl(mirror: Mirror) -> str:
    declared = mirror.schema().dump_fields
    names = mirror.only or tuple(declared)
    lines = [
        f"  {camel_case(wire.data_key or name)}: {_field_type(mirror, name, wire)}"
        for name, wire in ((name, declared[name]) for name in names)
    ]
    if mirror.api_error:
        lines.append("  apiError: ApiError")
    return f"type {mirror.name} {{\n" + "\n".join(lines) + "\n}"


def _field_type(mirror: Mirror, name: str, wire: fields.Field[Any]) -> str:
    named = mirror.types.get(name)
    listed = isinstance(wire, fields.List | KeyValues)
    if named is not None:
        return f"[{named}!]" if listed else named
    if isinstance(wire, fields.List):
        inner = wire.inner
        if isinstance(inner, fields.Nested):
            return f"[{_nested_name(inner)}!]"
        return f"[{_scalar(inner)}]"
    if isinstance(wire, fields.Nested):
        return _nested_name(wire)
    return _scalar(wire)


def _nested_name(wire: fields.Nested) -> str:
    nested = wire.nested
    schema = nested if isinstance(nested, type) else type(nested)
    return _NESTED[schema]


def _scalar(wire: fields.Field[Any]) -> str:
    if isinstance(wire, Int64):
        return "LongString"
    if isinstance(wire, Double):
        return "Float"
    if isinstance(wire, fields.Boolean):
        return "Boolean"
    return "String"  # strings and string ids
