"""Limits on what one request may ask for, each counted in time linear in the document.

Depth and alias limits bound the *text* of a query; the object limit bounds its *answer*:
nesting list fields multiplies. ``movie { similar(first: 100) { similar(first: 100) ... } }`` is
short and shallow, yet asks for a million movies (measured before this limit: a 5-level
``similar`` under 20 ratings took 71 s and answered 70 MB). So each field with a ``first``
argument counts ``first`` objects for every object above it, the way GitHub's API counts nodes.

Every count walks each fragment once. Counting by expanding spreads in place (as Strawberry's
``QueryDepthLimiter`` and ``MaxAliasesLimiter`` do) is exponential: 23 fragments that each spread
the next twice make a 900-byte query that held a worker for 42 s. A fragment's depth, aliases
and object count do not depend on where it is spread (its type condition fixes its parent type;
the operation fixes the variables; objects scale linearly with the count above the spread), so
each is computed once, after the fragments it spreads, and reused at every spread.

One HTTP request has one object budget: the operations of a batch draw on it together, so ten
operations at the cap cost what one may, not ten times as much.
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
    GraphQLField,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
    get_named_type,
)
from graphql.execution.values import VariableValues, get_argument_values, get_variable_values
from strawberry.extensions import SchemaExtension

from graph.errors import ErrorCode

SIZE_ARGUMENT = "first"


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


# --- Objects: counted at execution, when the variables are known ------------------------------


def count_nodes(
    schema: GraphQLSchema,
    definitions: Iterable[DefinitionNode],
    operation_name: str | None,
    variables: Mapping[str, object],
) -> int:
    """The most objects the operation's sized list fields can return, given its variables."""
    definitions = list(definitions)
    chosen = [
        d
        for d in definitions
        if isinstance(d, OperationDefinitionNode)
        and (operation_name is None or (d.name and d.name.value == operation_name))
    ]
    if len(chosen) != 1:
        return 0  # execution reports the missing or ambiguous operation itself
    operation = chosen[0]
    root = schema.get_root_type(operation.operation)
    coerced = get_variable_values(schema, operation.variable_definitions or (), dict(variables))
    if root is None or isinstance(coerced, list):
        return 0  # execution reports bad variables itself, with their own messages
    counts: dict[str, int] = {}
    order = dependency_order(fragments_of(definitions), [operation.selection_set])
    for fragment in order:
        target = schema.get_type(fragment.type_condition.name.value)
        counts[fragment.name.value] = (
            _objects(schema, target, fragment.selection_set, coerced, counts) if target else 0
        )
    return _objects(schema, root, operation.selection_set, coerced, counts)


def _objects(
    schema: GraphQLSchema,
    parent: GraphQLNamedType,
    selection_set: SelectionSetNode,
    variables: VariableValues,
    fragments: Mapping[str, int],
) -> int:
    """Objects below one selection set for one object above it (a count scales linearly)."""
    total = 0
    stack: list[tuple[GraphQLNamedType, SelectionSetNode, int]] = [(parent, selection_set, 1)]
    while stack:
        parent, current, factor = stack.pop()
        for selection in current.selections:
            if isinstance(selection, FragmentSpreadNode):
                total += factor * fragments.get(selection.name.value, 0)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                target = schema.get_type(condition.name.value) if condition else parent
                if target is not None:
                    stack.append((target, selection.selection_set, factor))
            elif (
                isinstance(selection, FieldNode)
                and isinstance(parent, GraphQLObjectType)
                and not selection.name.value.startswith("__")
            ):
                definition: GraphQLField | None = parent.fields.get(selection.name.value)
                if definition is None:
                    continue
                below = factor
                if SIZE_ARGUMENT in definition.args:
                    size = get_argument_values(definition, selection, variables).get(SIZE_ARGUMENT)
                    below = factor * (max(size, 0) if isinstance(size, int) else 1)
                    total += below
                if selection.selection_set is not None:
                    stack.append((get_named_type(definition.type), selection.selection_set, below))
    return total


class RequestBudget:
    """The objects one HTTP request may still ask for; a batch's operations share it."""

    def __init__(self, max_nodes: int) -> None:
        self.max_nodes = max_nodes
        self.spent = 0

    def take(self, nodes: int) -> bool:
        if self.spent + nodes > self.max_nodes:
            return False
        self.spent += nodes
        return True


class MaxNodesLimiter(SchemaExtension):
    """Refuses, before it runs, an operation that would overdraw its request's object budget.

    The budget is the context's (``graph.context.Context.budget``): one per HTTP request.
    """

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if document is not None:
            nodes = count_nodes(
                context.schema._schema,
                document.definitions,
                context.operation_name,
                context.variables or {},
            )
            budget: RequestBudget = context.context.budget
            if nodes > budget.max_nodes:
                raise GraphQLError(
                    f"this query may return up to {nodes:,} objects; the limit is "
                    f"{budget.max_nodes:,}: ask for fewer (lower `first`) or split it",
                    extensions={"code": ErrorCode.GRAPHQL_VALIDATION_FAILED.value},
                )
            if not budget.take(nodes):
                raise GraphQLError(
                    f"this request's operations may return up to {budget.spent + nodes:,} "
                    f"objects together; the limit is {budget.max_nodes:,} per request: "
                    "send fewer operations per batch",
                    extensions={"code": ErrorCode.GRAPHQL_VALIDATION_FAILED.value},
                )
        yield
