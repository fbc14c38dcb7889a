"""What each searchable entity lets a filter or an order-by name, and with which operators."""

from __future__ import annotations

from dataclasses import dataclass, field

from registry.search.ast import COMPARATORS, NULL_OPERATORS, SET_OPERATORS, Kind

STRING, NUMBER, ID = "string", "number", "id"
"""Attribute types: quoted strings; bare numbers; integer ids given as a number or a quoted one."""

OPERATORS: dict[str, tuple[str, ...]] = {
    STRING: ("=", "!=", "LIKE", "ILIKE", *SET_OPERATORS, *NULL_OPERATORS),
    NUMBER: (*COMPARATORS, *SET_OPERATORS, *NULL_OPERATORS),
    ID: ("=", "!=", *SET_OPERATORS, *NULL_OPERATORS),
}

PREFIXES: dict[str, Kind] = {
    "metric": "metric",
    "metrics": "metric",
    "param": "param",
    "params": "param",
    "parameter": "param",
    "parameters": "param",
    "tag": "tag",
    "tags": "tag",
    "attribute": "attribute",
    "attributes": "attribute",
    "attr": "attribute",
    "run": "attribute",
    "dataset": "dataset",
    "datasets": "dataset",
}

VALUE_TYPES: dict[Kind, str] = {"metric": NUMBER, "param": STRING, "tag": STRING, "dataset": STRING}

ENTITIES = ("runs", "experiments", "registered_models", "model_versions", "logged_models")


@dataclass(frozen=True)
class EntitySpec:
    """The searchable surface of one entity."""

    name: str
    attributes: dict[str, str]
    """Filterable attribute -> type."""
    kinds: frozenset[Kind]
    """Prefixed kinds a filter may use besides attributes."""
    order_attributes: tuple[str, ...]
    order_kinds: frozenset[Kind] = frozenset()
    aliases: dict[str, str] = field(default_factory=dict)
    """Alternative attribute names (matched case-insensitively) -> canonical name."""

    def canonical(self, key: str) -> str:
        """The canonical attribute name for ``key`` (itself when it is no alias)."""
        return self.aliases.get(key.lower(), key)


_RUN_STRINGS = ("run_id", "run_name", "status", "user_id", "artifact_uri")
_LOGGED_MODEL_STRINGS = ("name", "model_id", "model_type", "status", "source_run_id")
_LOGGED_MODEL_TIMES = ("creation_timestamp", "last_updated_timestamp")

SPECS: dict[str, EntitySpec] = {
    "runs": EntitySpec(
        name="runs",
        attributes={
            **dict.fromkeys(_RUN_STRINGS, STRING),
            "start_time": NUMBER,
            "end_time": NUMBER,
        },
        kinds=frozenset({"metric", "param", "tag", "dataset"}),
        order_attributes=(*_RUN_STRINGS, "start_time", "end_time"),
        order_kinds=frozenset({"metric", "param", "tag"}),
        aliases={"run name": "run_name", "created": "start_time"},
    ),
    "experiments": EntitySpec(
        name="experiments",
        attributes={
            "name": STRING,
            "experiment_id": ID,
            "creation_time": NUMBER,
            "last_update_time": NUMBER,
        },
        kinds=frozenset({"tag"}),
        order_attributes=("name", "experiment_id", "creation_time", "last_update_time"),
    ),
    "registered_models": EntitySpec(
        name="registered_models",
        attributes={"name": STRING},
        kinds=frozenset({"tag"}),
        order_attributes=("name", "creation_timestamp", "last_updated_timestamp"),
        aliases={"timestamp": "last_updated_timestamp"},
    ),
    "model_versions": EntitySpec(
        name="model_versions",
        attributes={
            "name": STRING,
            "run_id": STRING,
            "source_path": STRING,
            "version_number": NUMBER,
            "current_stage": STRING,
        },
        kinds=frozenset({"tag"}),
        order_attributes=(
            "name",
            "version_number",
            "creation_timestamp",
            "last_updated_timestamp",
            "current_stage",
        ),
        aliases={"source": "source_path", "timestamp": "last_updated_timestamp"},
    ),
    "logged_models": EntitySpec(
        name="logged_models",
        attributes={
            **dict.fromkeys(_LOGGED_MODEL_STRINGS, STRING),
            **dict.fromkeys(_LOGGED_MODEL_TIMES, NUMBER),
        },
        kinds=frozenset({"metric", "param", "tag"}),
        order_attributes=(*_LOGGED_MODEL_STRINGS, *_LOGGED_MODEL_TIMES),
        order_kinds=frozenset({"metric", "param", "tag"}),
        aliases={
            "creation_time": "creation_timestamp",
            "creation_timestamp_ms": "creation_timestamp",
            "last_updated_time": "last_updated_timestamp",
            "last_updated_timestamp_ms": "last_updated_timestamp",
        },
    ),
}
