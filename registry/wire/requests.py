"""Request schemas read from an entity's fields: where a client sends the entity itself.

``log-inputs`` sends a ``Dataset`` and ``log-metric`` a ``Metric``: the request takes each field
(its type, its messages) from the entity and says only which fields the client must send and
what an absent one loads as.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any, cast

from marshmallow import fields, missing

from registry.wire.base import Entity, RequestSchema


def entity_request(
    entity: type[Entity],
    name: str,
    *,
    required: Sequence[str],
    optional: Mapping[str, Any] | None = None,
    doc: str | None = None,
) -> type[RequestSchema]:
    """A request schema of some of ``entity``'s fields: ``required`` ones, then ``optional`` ones.

    ``optional`` maps each field to what it loads as when absent (a default of None also lets
    the client send null, as a marshmallow field declared with ``load_default=None`` does).
    The schema is named ``name`` and lives in the entity's module (the OpenAPI component
    names follow).
    """
    declared = entity.Schema._declared_fields
    chosen = {key: _loading(declared[key], required=True) for key in required}
    for key, default in (optional or {}).items():
        chosen[key] = _loading(declared[key], required=False, load_default=default)
    schema = cast(type[RequestSchema], RequestSchema.from_dict(chosen, name=name))
    schema.__module__ = entity.__module__
    schema.__doc__ = doc
    return schema


def _loading(
    field: fields.Field[Any], *, required: bool, load_default: Any = missing
) -> fields.Field[Any]:
    """A copy of ``field`` for loading, as if declared ``(required=..., load_default=...)``."""
    loading = copy.deepcopy(field)
    loading.required = required
    loading.load_default = load_default
    loading.allow_none = load_default is None  # what Field.__init__ decides from the default
    loading.metadata = {k: v for k, v in field.metadata.items() if k != "omit"}
    return loading
