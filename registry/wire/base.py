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
import math
import threading
from collections.abc import Callable, Mapping
from keyword import iskeyword
from typing import Any, ClassVar, Literal, TypeVar, dataclass_transform

from marshmallow import EXCLUDE, Schema, fields, missing, post_dump, post_load
from marshmallow.utils import ensure_text_type

from registry.wire.fields import Double, IdString, Int64, double_to_json

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


_ENCODERS: dict[type[Schema], Callable[[Any], JSON]] = {}
_COMPILING: set[type[Schema]] = set()
_COMPILE_LOCK = threading.RLock()


class Constant:
    """A source answering one value for every object: ``sources={"status": Constant("READY")}``."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


Source = str | Callable[[Any], Any] | Constant


def itself(obj: Any) -> Any:
    """A source answering the object itself: a nested part read from the same row."""
    return obj


def encoder(
    schema: type[Schema],
    *,
    sources: Mapping[str, Source] | None = None,
    nested: Mapping[str, Callable[[Any], JSON]] | None = None,
) -> Callable[[Any], JSON]:
    """``schema().dump`` for one object, compiled once: the same JSON, several times faster.

    Marshmallow's ``dump`` spends most of a ``runs/search`` page in its hooks, accessors and
    per-field dispatch. This compiles the schema's fields, with the same rules (``data_key``,
    omitted fields, nested entities), into one plain function that reads a ``View``, a dict or
    any object: strings, ints, doubles, booleans and nested entities are converted inline, a
    field with a ``to_json`` is called directly, any other field through its ``_serialize``.
    ``tests/registry/wire`` checks it answers what ``dump`` answers.

    ``sources`` says where a field's value comes from when the object does not hold it under
    the field's name: an attribute (or key) name, as marshmallow's ``attribute=``, or a
    function of the object (``itself`` for the object itself), or a ``Constant``, converted
    once where its JSON is a scalar. ``nested`` gives the encoder of
    a nested field's objects (one compiled with its own ``sources``). ``encoder(S,
    sources={"run_id": "run_uuid"})(row)`` is ``encoder(S)(View(row, run_id=row.run_uuid))``
    without the View; an attribute a View replaces still wins. Encoders with either option
    are not cached: compile them once, at import.
    """
    if sources or nested:
        return _compile(schema, dict(sources or {}), dict(nested or {}))
    found = _ENCODERS.get(schema)
    if found is not None:
        return found
    # Re-entrant: compiling a schema compiles its nested ones in the same thread; another
    # thread waits rather than getting the self-nesting placeholder below before it works.
    with _COMPILE_LOCK:
        found = _ENCODERS.get(schema)
        if found is None:
            if schema in _COMPILING:  # nested in itself: look its encoder up when called
                return lambda obj: _ENCODERS[schema](obj)
            _COMPILING.add(schema)
            try:
                found = _ENCODERS[schema] = _compile(schema, {}, {})
            finally:
                _COMPILING.discard(schema)
    return found


_MISSING = object()
_NO_OVER: dict[str, Any] = {}
_NO_TYPES: dict[type, Any] = {}
_PLAIN_LOOKUP: tuple[Any, ...] = (object.__getattribute__, tuple.__getattribute__)
_OMIT_HOOK = [("_omit", False, {"pass_original": False})]
_TEXT = fields.String._serialize
_LIST = fields.List._serialize
_BY_TYPE = {IdString: "str", Int64: "int", Double: "double", fields.Boolean: "bool"}

# Each kind of field's conversion of ``v`` (already known not to be missing) to its JSON.
_CONVERT = {
    "text": "if type(v) is not str and v is not None:\n    v = _text(v)",
    "str": "if type(v) is not str and v is not None:\n    v = str(v)",
    "int": "if type(v) is not int and v is not None:\n    v = int(v)",
    "double": "if type(v) is not float or v != v or v in _INFINITE:\n    v = _double(v)",
    "bool": "if type(v) is not bool and v is not None:\n    v = {ser}(v, {name!r}, src)",
    # A nested object is encoded by its encoder's function for its type, once there is one.
    "nested": "if v is not None:\n    v = ({by_type}.get(type(v)) or {enc})(v)",
    "nested_list": (
        "if v is not None:\n    v = [None if i is None else ({by_type}.get(type(i)) or {enc})(i)"
        " for i in {items}]"
    ),
    "text_list": (
        "if v is not None:\n    v = [i if i is None or type(i) is str else _text(i) for i in v]"
    ),
    "to_json": "v = {ser}(v)",
    "field": "v = {ser}(v, {name!r}, src)",
}
# Kinds whose result is a str, list or dict, or None: for them ``v in _EMPTY`` is ``not v``.
_SIZED = {"text", "str", "nested", "nested_list", "text_list"}


def _compile(
    schema: type[Schema], sources: dict[str, Source], nested: dict[str, Callable[[Any], JSON]]
) -> Callable[[Any], JSON]:
    hooks = {tag: names for tag, names in schema._hooks.items() if names}
    if hooks.pop("post_dump", _OMIT_HOOK) != _OMIT_HOOK or any("dump" in tag for tag in hooks):
        if sources or nested:
            raise ValueError(f"{schema.__name__} dumps through hooks: it takes no sources")
        return lambda obj: schema().dump(obj)  # hooks of its own, which only dump runs
    plan = _Plan(schema, sources, nested)
    generic = plan.function("generic", plan.generic_lines(), view_head=True)
    plan.names["generic"] = generic
    # Each type's own function (Views apart); nested fields of other encoders call it directly.
    plain: dict[type, Callable[[Any], JSON]] = {}
    viewed: dict[type, Callable[[Any], JSON]] = {}

    def first(src: Any) -> Callable[[Any], JSON]:
        if type(src) is View:
            base = type(src._base)
            found = viewed.get(base)
            if found is None:  # the first View of an object of its type
                found = viewed[base] = plan.specialise(base, through_view=True)
            return found
        made: Callable[[Any], JSON] = plan.specialise(type(src), through_view=False)
        plain[type(src)] = made
        return made

    def encode(src: Any) -> JSON:
        return (plain.get(type(src)) or first(src))(src)

    encode.__qualname__ = encode.__name__ = f"encode_{schema.__name__}"
    encode.by_type = plain  # type: ignore[attr-defined]
    return encode


class _Plan:
    """One schema's fields as code, for any object or for one type of object."""

    def __init__(
        self,
        schema: type[Schema],
        sources: dict[str, Source],
        nested: dict[str, Callable[[Any], JSON]],
    ) -> None:
        self.schema = schema
        self.fields = list(schema().dump_fields.items())
        self.indexes = range(len(self.fields))
        unknown = (set(sources) | set(nested)) - {name for name, _ in self.fields}
        if unknown:
            raise ValueError(f"{schema.__name__} has no fields {sorted(unknown)}")
        self.names: dict[str, Any] = {
            "View": View,
            "M": _MISSING,
            "_text": ensure_text_type,
            "_double": double_to_json,
            "_INFINITE": (math.inf, -math.inf),
            "_EMPTY": _EMPTY,
        }
        self.stores = []
        # Where each field is read from: an attribute (or key) name, or a computing function.
        self.attributes: list[str] = []
        self.computed: dict[int, str] = {}
        self.constants: dict[int, Any] = {}
        self.kinds: list[str] = []
        for index, (name, field) in enumerate(self.fields):
            kind = _kind(field)
            self.kinds.append(kind)
            if name in nested and kind not in ("nested", "nested_list"):
                raise ValueError(f"{schema.__name__}.{name} is not a nested field")
            if name in sources and not field._CHECK_ATTRIBUTE:
                raise ValueError(f"{schema.__name__}.{name} computes its own value")
            convert = _conversion(index, name, field, kind, self.names, nested.get(name))
            self.stores.append(f"{convert}\n{_store(field, name, kind)}".lstrip("\n"))
            if field.dump_default is not missing:
                self.names[f"default{index}"] = field.dump_default
            source = sources.get(name, field.attribute or name)
            if isinstance(source, Constant):
                self.constants[index] = source.value
                self.computed[index] = f"source{index}"
                self.names[f"source{index}"] = source.value
                source = name
            elif callable(source):
                self.names[f"source{index}"] = source
                self.computed[index] = "obj" if source is itself else f"source{index}(obj)"
                source = name
            self.attributes.append(source)

    def _unless_missing(self, index: int, fetch: str) -> str:
        """``v = fetch``, then stored; a missing value is dumped as the field's default."""
        store = self.stores[index]
        if self.fields[index][1].dump_default is missing:
            return f"v = {fetch}\nif v is not M:\n{_indent(store)}"
        default = f"default{index}() if callable(default{index}) else default{index}"
        return f"v = {fetch}\nif v is M:\n    v = {default}\n{store}"

    def _fixed(self, index: int, value: Any) -> str:
        """Code storing ``value``, known when compiling: converted once, if it can be."""
        general = f"v = source{index}\n{self.stores[index]}"
        self.names[f"source{index}"] = value
        if self.kinds[index] in ("field", "bool"):  # may read the object
            return general
        namespace = {**self.names, "v": value, "out": {}}
        try:
            exec(self.stores[index], namespace)
        except (TypeError, ValueError):  # raised again for every object
            return general
        stored = namespace["out"]
        if not stored:  # always omitted
            return ""
        ((key, converted),) = stored.items()
        if converted is not None and type(converted) not in (str, int, float, bool):
            return general  # each answer needs its own list or dict
        self.names[f"fixed{index}"] = converted
        return f"out[{key!r}] = fixed{index}"

    def generic_lines(self) -> list[str]:
        """Read a View, dict or object as marshmallow does."""
        lines = []
        for index, (name, field) in enumerate(self.fields):
            store = self.stores[index]
            if not field._CHECK_ATTRIBUTE:
                lines.append(f"v = None\n{store}")
                continue
            if index in self.computed:
                own = f"v = {self.computed[index]}\n{store}"
            else:
                attr = self.attributes[index]
                own = "\n".join(
                    [
                        "if isinstance(obj, dict):",
                        _indent(self._unless_missing(index, f"obj.get({attr!r}, M)")),
                        "else:",
                        _indent(self._unless_missing(index, f"getattr(obj, {attr!r}, M)")),
                    ]
                )
            replaced = f"v = over[{name!r}]\n{store}"
            lines.append(f"if {name!r} in over:\n{_indent(replaced)}\nelse:\n{_indent(own)}")
        return lines

    def specialise(self, cls: type, *, through_view: bool) -> Any:
        """Code reading objects of ``cls``, seen through a View or not.

        What none of them has is not asked for; what they have is read directly, and an
        object lacking it after all raises ``AttributeError``. Without a View, nothing is
        looked up among replaced attributes.
        """
        mapping = issubclass(cls, dict)
        wanted = frozenset(self.attributes)
        absent = frozenset() if mapping else _absent(cls, wanted)
        lines = []
        for index, (name, field) in enumerate(self.fields):
            store = self.stores[index]
            attr = self.attributes[index]
            if not field._CHECK_ATTRIBUTE:
                lines.append(f"v = None\n{store}")
                continue
            if index in self.constants:
                own = self._fixed(index, self.constants[index])
            elif index in self.computed:
                own = f"v = {self.computed[index]}\n{store}"
            elif mapping:
                own = self._unless_missing(index, f"obj.get({attr!r}, M)")
            elif attr in absent:
                default = field.dump_default
                if default is missing:  # nothing to dump
                    own = ""
                elif callable(default):
                    own = self._unless_missing(index, "M")
                else:
                    own = self._fixed(index, default)
            else:
                read = f"obj.{attr}" if attr.isidentifier() and not iskeyword(attr) else None
                own = f"v = {read or f'getattr(obj, {attr!r})'}\n{store}"
            if not through_view:
                lines.append(own)
                continue
            replaced = f"v = over[{name!r}]\n{store}"
            own = _indent(own or "pass")
            lines.append(f"if {name!r} in over:\n{_indent(replaced)}\nelse:\n{own}")
        head = ["over = src._over", "obj = src._base"] if through_view else ["obj = src"]
        return self.function(cls.__name__, lines, head=head, fallback=True)

    def function(
        self,
        label: str,
        lines: list[str],
        *,
        head: list[str] | None = None,
        view_head: bool = False,
        fallback: bool = False,
    ) -> Any:
        """Compile ``lines`` into a function of ``src`` answering ``out``.

        With ``fallback``, an object lacking what others of its type have (``AttributeError``)
        is read by the ``generic`` function instead.
        """
        if view_head:
            head = ["obj = src", "over = NO_OVER", "if type(obj) is View:"]
            head += ["    over = obj._over", "    obj = obj._base"]
        body = [*(head or []), "out = {}", *lines, "return out"]
        if fallback:
            body = [
                "try:",
                _indent("\n".join(body)),
                "except AttributeError:",
                "    return generic(src)",
            ]
        source = "def encode(src):\n" + _indent("\n".join(body))
        namespace = {**self.names, "NO_OVER": _NO_OVER}
        where = f"<encoder of {self.schema.__name__} for {label}>"
        exec(compile(source, where, "exec"), namespace)
        return namespace["encode"]


def _kind(field: fields.Field[Any]) -> str:
    """How the field's values are converted: see ``_CONVERT``."""
    if type(field) in _BY_TYPE:
        return _BY_TYPE[type(field)]
    if hasattr(field, "to_json"):
        return "to_json"
    if type(field)._serialize is _TEXT:
        return "text"
    if _plain_nested(field):
        return "nested"
    # A List subclass with a ``prepare`` serializes ``prepare(value)`` as its List would.
    if isinstance(field, fields.List) and (
        type(field)._serialize is _LIST or hasattr(field, "prepare")
    ):
        if _plain_nested(field.inner):
            return "nested_list"
        if type(field.inner)._serialize is _TEXT:
            return "text_list"
    return "field"


def _plain_nested(field: fields.Field[Any]) -> bool:
    """A Nested dumping one object with every field of its schema."""
    return (
        type(field) is fields.Nested
        and not field.many
        and field.only is None
        and not field.exclude
        and not field.schema.many
    )


def _conversion(
    index: int,
    name: str,
    field: fields.Field[Any],
    kind: str,
    names: dict[str, Any],
    nested_encoder: Callable[[Any], JSON] | None = None,
) -> str:
    """The code converting ``v``; what it calls is added to ``names``."""
    names[f"ser{index}"] = getattr(field, "to_json", field._serialize)
    if kind in ("nested", "nested_list"):
        nested = field.inner if isinstance(field, fields.List) else field
        schema = type(nested.schema)  # type: ignore[attr-defined]
        names[f"enc{index}"] = nested_encoder or encoder(schema)
        names[f"by_type{index}"] = getattr(names[f"enc{index}"], "by_type", _NO_TYPES)
        if hasattr(field, "prepare"):
            names[f"prepare{index}"] = field.prepare
    return _CONVERT[kind].format(
        name=name,
        ser=f"ser{index}",
        enc=f"enc{index}",
        items=f"prepare{index}(v)" if f"prepare{index}" in names else "v",
        by_type=f"by_type{index}",
    )


def _store(field: fields.Field[Any], name: str, kind: str) -> str:
    """The code putting ``v`` in ``out`` unless the field's omit rule leaves it out."""
    key = field.data_key or name
    omit = field.metadata.get("omit", "never")
    if omit == "never":
        return f"out[{key!r}] = v"
    test = "v is not None" if omit == "none" else "v" if kind in _SIZED else "v not in _EMPTY"
    return f"if {test}:\n    out[{key!r}] = v"


def _absent(cls: type, wanted: frozenset[str]) -> frozenset[str]:
    """The fields no instance of ``cls`` can have: it holds no attributes of its own.

    Asking a named tuple for a field it lacks raises and catches an error every time.
    """
    if (
        getattr(cls, "__dictoffset__", 1)
        or hasattr(cls, "__getattr__")
        or cls.__getattribute__ not in _PLAIN_LOOKUP
    ):
        return frozenset()
    return frozenset(name for name in wanted if not hasattr(cls, name))


def _indent(code: str, width: int = 4) -> str:
    return "\n".join(" " * width + line for line in code.split("\n"))
