"""Run one GraphQL request as MLflow's server does: limits, validation, then execution.

Every answer is ``(data, errors)``, errors as plain messages. A field reads the REST body its
root field answered: ``runUuid`` is ``run_uuid`` there; a field the body leaves out answers the
protobuf default MLflow answers (``""``, ``"0"``, ``false``, ``[]``, an empty object), and a
metric value that JSON cannot hold answers as MLflow's does: NaN is null, infinities are the
largest doubles (what MLflow's SQL store keeps for them).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache, lru_cache
from importlib.resources import files
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLError,
    GraphQLList,
    GraphQLObjectType,
    GraphQLResolveInfo,
    GraphQLScalarType,
    GraphQLSchema,
    build_schema,
    execute_sync,
    get_nullable_type,
    parse,
    validate,
)
from graphql.language.ast import ConstValueNode, DocumentNode, IntValueNode, StringValueNode
from graphql.pyutils import Undefined

from registry.errors import RegistryError
from registry.server.graphql import reads
from registry.server.graphql.limits import MAX_TOKENS, check_limits
from registry.server.graphql.loads import RequestReads
from registry.server.graphql.mirrors import mirrors_sdl, snake_case
from registry.store.metric_history_bulk import stored_value

JSON = dict[str, Any]
_MISSING = object()
_NON_FINITE = {"NaN": None, **{text: stored_value(text) for text in ("Infinity", "-Infinity")}}
_DEFAULTS = {"String": "", "LongString": 0, "Int": 0, "Float": 0.0, "Boolean": False}
_CACHED_QUERY_LENGTH = 20000
_UNSET_OBJECTS = frozenset({"ApiError"})
"""Object types MLflow answers as null when unset (the others are empty messages)."""


def run_document(
    query: str, variables: Mapping[str, Any] | None, operation_name: str | None
) -> tuple[JSON | None, list[str] | None]:
    """``(data, errors)`` of one request; errors are None when there are none.

    An error that is not the API's (a database outage, a bug) is raised, not answered, so the
    server reports it as it reports it anywhere else.
    """
    checked = _checked(query) if len(query) <= _CACHED_QUERY_LENGTH else _check(query)
    if isinstance(checked, list):
        return None, checked
    result = execute_sync(
        schema(),
        checked,
        variable_values=dict(variables or {}),
        operation_name=operation_name,
        field_resolver=_read_field,
        context_value=RequestReads(),
    )
    messages = [_message(err) for err in result.errors or ()]
    return result.data, messages or None


def _check(query: str) -> DocumentNode | list[str]:
    """The document, parsed, within the limits and valid; else the messages saying why not."""
    try:
        document = parse(query, max_tokens=MAX_TOKENS)
    except GraphQLError as err:
        return [err.message]
    except RecursionError:
        return ["Syntax Error: the document is nested too deeply."]
    problem = check_limits(document)
    if problem is not None:
        return [problem]
    invalid = validate(schema(), document)
    if invalid:
        return [err.message for err in invalid]
    return document


# A client sends the same few documents again and again (MLflow's UI polls its charts):
# checking one costs more than running it.
_checked = lru_cache(maxsize=256)(_check)


def _message(err: GraphQLError) -> str:
    cause = err.original_error
    if cause is None or isinstance(cause, GraphQLError):
        return err.message
    if isinstance(cause, RegistryError):
        return cause.message
    raise cause


@cache
def schema() -> GraphQLSchema:
    """MLflow's schema: the mirrored wire types and ``schema.graphql``, with their resolvers."""
    own = files("registry.server.graphql").joinpath("schema.graphql").read_text()
    built = build_schema(mirrors_sdl() + "\n\n" + own)
    _resolve(built.query_type, reads.QUERIES)
    _resolve(built.mutation_type, reads.MUTATIONS)
    _resolve(built.get_type("MlflowRunExtension"), reads.RUN_FIELDS)
    long_string = built.get_type("LongString")
    assert isinstance(long_string, GraphQLScalarType)
    long_string.coerce_output_value = str
    long_string.coerce_input_value = _long
    long_string.coerce_input_literal = _long_literal
    return built


def _resolve(owner: Any, resolvers: Mapping[str, Any]) -> None:
    assert isinstance(owner, GraphQLObjectType)
    for name, resolver in resolvers.items():
        owner.fields[name].resolve = resolver


def _long(value: Any) -> int:
    if isinstance(value, bool):
        raise GraphQLError(f"LongString cannot represent {value!r}")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise GraphQLError(f"LongString cannot represent {value!r}") from None


def _long_literal(node: ConstValueNode) -> Any:
    if isinstance(node, IntValueNode | StringValueNode):
        return _long(node.value)
    return Undefined


def _read_field(source: Any, info: GraphQLResolveInfo[Any], **_args: Any) -> Any:
    value = source.get(snake_case(info.field_name), _MISSING)
    kind = get_nullable_type(info.return_type)
    if value is _MISSING:
        return _default(kind)
    if isinstance(value, str) and value in _NON_FINITE and getattr(kind, "name", "") == "Float":
        return _NON_FINITE[value]
    return value


def _default(kind: Any) -> Any:
    if isinstance(kind, GraphQLList):
        return []
    if isinstance(kind, GraphQLObjectType):
        return None if kind.name in _UNSET_OBJECTS else {}
    if isinstance(kind, GraphQLEnumType):
        return None
    return _DEFAULTS.get(kind.name)
