"""MLflow's limits on one GraphQL document, checked before it is validated or run.

At most 10 root fields, 10 aliases among the fields of one selection (fragments spread into it
count with it), 10 levels of nested selections and 1000 selections in all: what MLflow's server
allows by default. The messages are MLflow's, less its pointer to environment variables that
this server does not read.
"""

from __future__ import annotations

from collections import deque

from graphql.language.ast import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)

MAX_ROOT_FIELDS = 10
MAX_ALIASES = 10
MAX_DEPTH = 10
MAX_SELECTIONS = 1000
MAX_TOKENS = 20000
"""Tokens the parser reads before giving up (MLflow sets none; its UI's largest query has ~300)."""


def check_limits(document: DocumentNode) -> str | None:
    """The message of the first limit ``document`` exceeds, None when it keeps to all of them."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    root_fields = aliases = selections = 0
    for operation in document.definitions:
        if not isinstance(operation, OperationDefinitionNode):
            continue
        stack = [(operation.selection_set, 1)]
        while stack:
            selection_set, depth = stack.pop()
            if depth > MAX_DEPTH:
                return f"Query exceeds maximum depth of {MAX_DEPTH}"
            found, named = _fields_of(selection_set, fragments)
            aliases = max(aliases, named)
            for node in found:
                root_fields += depth == 1
                selections += 1
                if selections > MAX_SELECTIONS:
                    return f"Query exceeds maximum total selections of {MAX_SELECTIONS}"
                if node.selection_set is not None:
                    stack.append((node.selection_set, depth + 1))
    if root_fields > MAX_ROOT_FIELDS:
        return _too_many("root fields", MAX_ROOT_FIELDS, root_fields)
    if aliases > MAX_ALIASES:
        return _too_many("aliases", MAX_ALIASES, aliases)
    return None


def _fields_of(
    selection_set: SelectionSetNode, fragments: dict[str, FragmentDefinitionNode]
) -> tuple[list[FieldNode], int]:
    """The fields of one selection, fragments merged in, and how many of them are aliased."""
    found: list[FieldNode] = []
    aliased = 0
    spread: set[str] = set()  # each fragment once: a fragment spread in itself ends here
    pending = deque(selection_set.selections)
    while pending:
        selection = pending.popleft()
        if isinstance(selection, FieldNode):
            found.append(selection)
            aliased += selection.alias is not None
        elif isinstance(selection, InlineFragmentNode):
            pending.extend(selection.selection_set.selections)
        elif isinstance(selection, FragmentSpreadNode) and selection.name.value not in spread:
            spread.add(selection.name.value)
            fragment = fragments.get(selection.name.value)
            if fragment is not None:
                pending.extend(fragment.selection_set.selections)
    return found, aliased


def _too_many(what: str, limit: int, count: int) -> str:
    return f"GraphQL queries should have at most {limit} {what}, got {count} {what}."
