"""The two kinds of schema: requests (what a client sends) and entities (what the server answers).

An entity is a frozen dataclass whose every field names its wire field once::

    @entity
    class Param:
        key: str = wire(fields.String())
        value: str = wire(fields.String(), default="")

``Param.Schema`` is derived from it: the server dumps with it, the OpenAPI document is built
from it and the client's ``Param.from_dict`` loads with it. A field marked ``omit="none"`` or
``omit="empty"`` is left out of a response when it is None or empty, as MLflow's proto JSON does.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any, ClassVar, Literal, TypeVar, dataclass_transform

from marshmallow import EXCLUDE, Schema, fields, post_dump, post_load

JSON = dict[str, Any]
T = TypeVar("T")
Omit = Literal["never", "none", "empty"]
_EMPTY: tuple[Any, ...] = (None, "", [], {})


class RequestSchema(Schema):
    """Base of request schemas: unknown fields are ignored, as MLflow's server does."""

    class Meta:
        unknown = EXCLUDE


class KeyValueSchema(RequestSchema):
    """``{key, value}``: tags and params in a request."""

    key = fields.String(required=True)
    value = fields.String(load_default="")


class ResponseSchema(Schema):
    """Base of response shapes: open (a later version may add fields), empty fields omitted."""

    entity: ClassVar[Callable[..., Any] | None] = None

    class Meta:
        unknown = EXCLUDE

    @post_dump
    def _omit(self, data: JSON, **_kwargs: Any) -> JSON:
        for name, field in self.dump_fields.items():
            rule = field.metadata.get("omit", "never")
            key = field.data_key or name
            if rule != "never" and key in data:
                value = data[key]
                if value is None or (rule == "empty" and value in _EMPTY):
                    del data[key]
        return data

    @post_load
    def _entity(self, data: JSON, **_kwargs: Any) -> Any:
        if self.entity is None:
            return data
        return self.entity(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items()})


def wire(
    field: fields.Field[Any],
    *,
    default: Any = dataclasses.MISSING,
    factory: Callable[[], Any] | None = None,
    omit: Omit = "never",
    kw_only: bool = False,
) -> Any:
    """A dataclass field carrying its wire field (see the module docstring)."""
    if omit != "never":
        field.metadata = {**field.metadata, "omit": omit}
    extra: dict[str, Any] = {"metadata": {"wire": field}, "kw_only": kw_only}
    if factory is not None:
        return dataclasses.field(default_factory=factory, **extra)
    return dataclasses.field(default=default, **extra)


class Entity:
    """Base of entities: ``Schema`` derived from the fields, ``from_dict`` loads with it."""

    Schema: ClassVar[type[ResponseSchema]]

    @classmethod
    def from_dict(cls: type[T], data: Mapping[str, Any]) -> T:
        """Read the entity from its wire JSON."""
        return cls.Schema().load(data)  # type: ignore[attr-defined, no-any-return]


@dataclass_transform(frozen_default=True, field_specifiers=(wire,))
def entity(cls: type[T]) -> type[T]:
    """Make ``cls`` a frozen dataclass and derive its ``Schema`` from its fields' wire fields."""
    data_class = dataclasses.dataclass(frozen=True)(cls)
    declared = {f.name: f.metadata["wire"] for f in dataclasses.fields(data_class)}  # type: ignore[arg-type]
    schema = ResponseSchema.from_dict(declared, name=f"{cls.__name__}Schema")
    schema.entity = data_class  # type: ignore[attr-defined]
    schema.__doc__ = cls.__doc__
    schema.__module__ = cls.__module__
    data_class.Schema = schema  # type: ignore[attr-defined]
    return data_class


class View:
    """An object seen through some replaced attributes: the server dumps a row with it.

    ``View(row, run_id=row.run_uuid)`` has every attribute of ``row`` and ``run_id``; a
    schema dumps it like an entity.
    """

    __slots__ = ("_base", "_over")

    def __init__(self, base: Any, /, **over: Any) -> None:
        self._base = base
        self._over = over

    def __getattr__(self, name: str) -> Any:
        over = self._over
        if name in over:
            return over[name]
        return getattr(self._base, name)


_MISSING = object()
_ENCODERS: dict[type[Schema], Callable[[Any], JSON]] = {}


def encoder(schema: type[Schema]) -> Callable[[Any], JSON]:
    """``schema().dump`` for one object, planned once: the same JSON, many times faster.

    Marshmallow's ``dump`` spends most of a ``runs/search`` page in its hooks and accessors; this
    walks the schema's own fields with the same rules (``data_key``, omitted fields, nested
    entities). ``tests/registry/wire`` checks it answers what ``dump`` answers.
    """
    found = _ENCODERS.get(schema)
    if found is None:
        plan = [_step(name, field) for name, field in schema().dump_fields.items()]
        found = _ENCODERS[schema] = partial(_encode, plan)
    return found


def _encode(plan: list[tuple[str, str, Callable[[Any], Any] | None, str]], obj: Any) -> JSON:
    out: JSON = {}
    over: dict[str, Any] = {}
    if type(obj) is View:
        obj, over = obj._base, obj._over
    is_dict = isinstance(obj, dict)
    for name, key, convert, omit in plan:
        if name in over:
            value = over[name]
        else:
            value = obj.get(name, _MISSING) if is_dict else getattr(obj, name, _MISSING)
            if value is _MISSING:
                continue
        if convert is not None:
            value = convert(value)
        elif value is not None and type(value) is not str:
            value = str(value)
        if omit != "never" and (value is None or (omit == "empty" and value in _EMPTY)):
            continue
        out[key] = value
    return out


def _step(name: str, field: fields.Field[Any]) -> tuple[str, str, Callable[[Any], Any] | None, str]:
    convert: Callable[[Any], Any] | None
    prepare = getattr(field, "prepare", None)
    if isinstance(field, fields.Nested):
        one = encoder(type(field.schema))
        convert = partial(_nested, one)
    elif isinstance(field, fields.List) and isinstance(field.inner, fields.Nested):
        each = encoder(type(field.inner.schema))
        convert = partial(_nested_list, each, prepare)
    elif hasattr(field, "to_json"):
        convert = field.to_json
    elif type(field) is fields.String:
        convert = None  # the common case, inlined in _encode: str(value) unless None
    else:
        convert = partial(_plain, field, name)
    return name, field.data_key or name, convert, field.metadata.get("omit", "never")


def _plain(field: fields.Field[Any], name: str, value: Any) -> Any:
    return field._serialize(value, name, None)


def _nested(one: Callable[[Any], JSON], value: Any) -> Any:
    return None if value is None else one(value)


def _nested_list(each: Callable[[Any], JSON], prepare: Any, value: Any) -> Any:
    if value is None:
        return None
    return [each(item) for item in (prepare(value) if prepare else value)]
