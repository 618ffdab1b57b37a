"""Limits on the shape of a document, each counted in time linear in the document.

Depth and alias limits bound the *text* of a query; what its answer costs is counted by
``graph.cost``. Every count walks each fragment once. Counting by expanding spreads in place
(as Strawberry's ``QueryDepthLimiter`` and ``MaxAliasesLimiter`` do) is exponential: 23
fragments that each spread the next twice make a 900-byte query that held a worker for 42 s. A
fragment's depth and aliases do not depend on where it is spread (its type condition fixes its
parent type), so each is computed once, after the fragments it spreads, and reused at every
spread.

The fields answering at one response path are counted before graphql-core's rules run
(``crowding``): its overlapping-fields rule compares them pairwise.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from graphql import (
    DefinitionNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
)

# --- Fragments in dependency order ------------------------------------------------------------


def fragments_of(definitions: Iterable[DefinitionNode]) -> dict[str, FragmentDefinitionNode]:
    return {d.name.value: d for d in definitions if isinstance(d, FragmentDefinitionNode)}


def spreads_in(selection_set: SelectionSetNode) -> Iterator[FragmentSpreadNode]:
    """Every fragment spread inside the selection set, at any nesting, without following any.

    Iterative, like every walk here: a 2,000-token query nests deeper than Python's stack.
    """
    stack = [selection_set]
    while stack:
        for selection in stack.pop().selections:
            if isinstance(selection, FragmentSpreadNode):
                yield selection
            elif isinstance(selection, FieldNode | InlineFragmentNode) and selection.selection_set:
                stack.append(selection.selection_set)


def dependency_order(
    fragments: Mapping[str, FragmentDefinitionNode], roots: Iterable[SelectionSetNode]
) -> list[FragmentDefinitionNode]:
    """The fragments the roots reach, each after every fragment it spreads.

    Unknown names and spreads that close a cycle are left out: graphql-core's standard rules
    report both, and a count that meets them adds nothing for them.
    """
    order: list[FragmentDefinitionNode] = []
    seen: set[str] = set()
    for root in roots:
        stack: list[tuple[FragmentDefinitionNode | None, Iterator[FragmentSpreadNode]]] = [
            (None, spreads_in(root))
        ]
        while stack:
            owner, spreads = stack[-1]
            spread = next(spreads, None)
            if spread is None:
                stack.pop()
                if owner is not None:
                    order.append(owner)
                continue
            fragment = fragments.get(spread.name.value)
            if fragment is not None and fragment.name.value not in seen:
                seen.add(fragment.name.value)
                stack.append((fragment, spreads_in(fragment.selection_set)))
    return order


# --- Depth and aliases: a validation rule, cached with the query text --------------------------


@dataclass(frozen=True, slots=True)
class Shape:
    """How deep a selection set nests fields, and how many aliased fields it holds, spreads in."""

    depth: int
    aliases: int


def shape_of(selection_set: SelectionSetNode, fragments: Mapping[str, Shape]) -> Shape:
    """The shape of one selection set, given the shapes of the fragments it spreads.

    Depth counts the levels of fields with sub-selections, as Strawberry's depth limiter did;
    introspection fields (``__type`` ...) add no depth but their aliases count.
    """
    depth = aliases = 0
    stack: list[tuple[SelectionSetNode, int | None]] = [(selection_set, 0)]
    while stack:
        current, level = stack.pop()
        for selection in current.selections:
            if isinstance(selection, FragmentSpreadNode):
                spread = fragments.get(selection.name.value, Shape(0, 0))
                aliases += spread.aliases
                if level is not None:
                    depth = max(depth, level + spread.depth)
            elif isinstance(selection, InlineFragmentNode):
                stack.append((selection.selection_set, level))
            elif isinstance(selection, FieldNode):
                aliases += selection.alias is not None
                if selection.selection_set is None:
                    continue
                counted = level is not None and not selection.name.value.startswith("__")
                below = level + 1 if counted and level is not None else None
                if below is not None:
                    depth = max(depth, below)
                stack.append((selection.selection_set, below))
    return Shape(depth, aliases)


def document_shapes(document: DocumentNode) -> dict[OperationDefinitionNode, Shape]:
    """Each operation's shape, every fragment walked once."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    fragments = fragments_of(document.definitions)
    shapes: dict[str, Shape] = {}
    for fragment in dependency_order(fragments, [o.selection_set for o in operations]):
        shapes[fragment.name.value] = shape_of(fragment.selection_set, shapes)
    return {operation: shape_of(operation.selection_set, shapes) for operation in operations}


def shape_rule(max_depth: int, max_aliases: int) -> type[ValidationRule]:
    """A rule refusing operations deeper than ``max_depth`` and documents with more aliases.

    The messages are those of the Strawberry limiters it replaces, so clients see no change.
    """

    class ShapeRule(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            shapes = document_shapes(context.document)
            for operation, shape in shapes.items():
                if shape.depth > max_depth:
                    name = operation.name.value if operation.name else "anonymous"
                    context.report_error(
                        GraphQLError(
                            f"'{name}' exceeds maximum operation depth of {max_depth}",
                            operation,
                        )
                    )
            aliases = sum(shape.aliases for shape in shapes.values())
            if aliases > max_aliases:
                context.report_error(
                    GraphQLError(f"{aliases} aliases found. Allowed: {max_aliases}")
                )

    return ShapeRule


# --- Fields merged by response path, as graphql-core executes them --------------------------------


Collected = dict[str, list[tuple[str | None, FieldNode]]]


def collect(
    selection_sets: Iterable[SelectionSetNode], fragments: Mapping[str, FragmentDefinitionNode]
) -> Collected:
    """The fields of selection sets answering at one place, by response name, as graphql-core
    merges them before it resolves each name once: inline fragments' fields in place, each
    named fragment once. Each field comes with the type condition it sits under (None: the
    parent type's own)."""
    fields: Collected = {}
    spread: set[str] = set()
    pending: list[tuple[str | None, SelectionSetNode]] = [(None, s) for s in selection_sets]
    while pending:
        condition, current = pending.pop()
        for selection in current.selections:
            if isinstance(selection, FieldNode):
                name = (selection.alias or selection.name).value
                fields.setdefault(name, []).append((condition, selection))
            elif isinstance(selection, InlineFragmentNode):
                inner = selection.type_condition
                pending.append((inner.name.value if inner else condition, selection.selection_set))
            elif isinstance(selection, FragmentSpreadNode) and selection.name.value not in spread:
                spread.add(selection.name.value)
                fragment = fragments.get(selection.name.value)
                if fragment is not None:
                    pending.append((fragment.type_condition.name.value, fragment.selection_set))
    return fields


def crowding(document: DocumentNode, max_same_name: int, max_fields: int) -> str | None:
    """Why the document asks for too many fields at one place of its answer, or None.

    graphql-core's OverlappingFieldsCanBeMergedRule compares every pair of fields that answer
    at the same response path, recursing into their selections: 190 ``movie(id: …)`` fields, or
    ``similar`` nested 8 deep two at a time (2^8 fields at the deepest path), took it 0.2 to
    0.7 s, on the event loop, for a document of a few kilobytes. Counting the fields at each
    path first is linear: fields of fragments count where they answer, each fragment once per
    path (as graphql-core merges it once), and the walk stops past ``max_fields`` fields, so a
    fragment spread at many paths cannot make it long. Clients need a field two or three times
    at one path (in a fragment and beside it, or ``message`` in each member of a union), never
    dozens.
    """
    fragments = fragments_of(document.definitions)
    seen = 0
    for operation in document.definitions:
        if not isinstance(operation, OperationDefinitionNode):
            continue
        paths: list[tuple[tuple[str, ...], list[SelectionSetNode]]] = [
            ((), [operation.selection_set])
        ]
        while paths:
            path, sets = paths.pop()
            for name, fields in collect(sets, fragments).items():
                seen += len(fields)
                if seen > max_fields:
                    return (
                        f"the document asks for more than {max_fields:,} fields once its "
                        "fragments are spread: ask for less, or split it"
                    )
                if len(fields) > max_same_name:
                    return (
                        f"{len(fields)} fields answer at `{'.'.join((*path, name))}`; at most "
                        f"{max_same_name} may share one place in the answer: ask for each "
                        "field once"
                    )
                below = [f.selection_set for _, f in fields if f.selection_set is not None]
                if below:
                    paths.append(((*path, name), below))
    return None
