"""Which models a serving process is configured to serve: ``model_specs``.

Kept apart from ``serving.models`` (and free of the web stack and the ML libraries) so the
serving master can read its models' names and URIs before it imports either.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

from serving.config import ServingConfig

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
"""A name given to a model (``--model NAME=URI``, a models file, a repository load): it goes in
URL paths and a header."""


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    """A model to serve: its name ("" = named after what it loads, as the URI argument) and URI."""

    name: str
    uri: str


def model_specs(config: ServingConfig) -> list[ModelSpec]:
    """Every model the configuration names: the URI argument, ``models``, ``models_file``.

    Raises:
        ValueError: a malformed ``NAME=URI`` pair or models file, a bad name, a name twice.
    """
    specs = [ModelSpec("", config.model_uri)] if config.model_uri else []
    for pair in re.split(r"[,\s]+", config.models.strip()):
        if pair:
            name, sep, uri = pair.partition("=")
            if not sep or not uri:
                raise ValueError(f"SERVING_MODELS / --model {pair!r}: use NAME=URI")
            specs.append(ModelSpec(name, uri))
    if config.models_file:
        specs.extend(_read_models_file(config.models_file))
    seen: set[str] = set()
    for spec in specs:
        if spec.name:
            check_name(spec.name)
            if spec.name in seen:
                raise ValueError(f"model {spec.name!r} is named twice")
            seen.add(spec.name)
    return specs


def check_name(name: str) -> None:
    """Refuse a name that cannot go in a URL path segment or a header.

    Raises:
        ValueError: letters, digits, ``_``, ``.`` and ``-`` only, up to 128 characters.
    """
    if not NAME.match(name):
        raise ValueError(
            f"model name {name!r}: use letters, digits, '_', '.' and '-' (up to 128 characters)"
        )


def _read_models_file(path: str) -> list[ModelSpec]:
    import yaml  # only for a models file: not on every server's cold start

    try:
        data = yaml.safe_load(Path(path).read_text())  # JSON is YAML too
    except (OSError, yaml.YAMLError) as err:
        raise ValueError(f"SERVING_MODELS_FILE {path}: {err}") from None
    items: list[Any] = [data]
    if isinstance(data, dict):
        items = [{"name": k, "uri": v} for k, v in data.items()]
    elif isinstance(data, list):
        items = data
    specs = []
    for item in items:
        if not isinstance(item, dict) or not all(
            isinstance(item.get(key), str) and item[key] for key in ("name", "uri")
        ):
            raise ValueError(
                f"SERVING_MODELS_FILE {path}: expected a map of name to URI or a list of"
                f' {{"name": ..., "uri": ...}} objects, got {item!r}'
            )
        specs.append(ModelSpec(item["name"], item["uri"]))
    return specs
