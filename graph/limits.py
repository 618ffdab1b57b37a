"""A cap on how many objects one query may ask for, counted before anything runs.

Depth, alias and token limits bound the *text* of a query, not its *answer*: nesting list fields
multiplies. ``movie { similar(first: 100) { similar(first: 100) { similar(first: 100) ... } } }``
is short and shallow, yet asks for a million movies (measured before this limit: a 5-level
``similar`` under 20 ratings took 71 s and answered 70 MB). So each field with a ``first``
argument counts ``first`` objects for every object above it, the way GitHub's API counts nodes,
and a query whose total exceeds the limit is refused with a code before execution.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from graphql import (
    DefinitionNode,
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
    get_named_type,
)
from graphql.execution.values import get_argument_values, get_variable_values
from strawberry.extensions import SchemaExtension

from graph.errors import ErrorCode

SIZE_ARGUMENT = "first"


class MaxNodesLimiter(SchemaExtension):
    def __init__(self, max_nodes: int) -> None:
        self.max_nodes = max_nodes

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
            if nodes > self.max_nodes:
                raise GraphQLError(
                    f"this query may return up to {nodes:,} objects; the limit is "
                    f"{self.max_nodes:,}: ask for fewer (lower `first`) or split it",
                    extensions={"code": ErrorCode.GRAPHQL_VALIDATION_FAILED.value},
                )
        yield


def count_nodes(
    schema: GraphQLSchema,
    definitions: Iterable[DefinitionNode],
    operation_name: str | None,
    variables: dict[str, object],
) -> int:
    """The most objects the operation's sized list fields can return, given its variables."""
    definitions = list(definitions)
    operations = [d for d in definitions if isinstance(d, OperationDefinitionNode)]
    fragments = {d.name.value: d for d in definitions if isinstance(d, FragmentDefinitionNode)}
    chosen = [
        o
        for o in operations
        if operation_name is None or (o.name and o.name.value == operation_name)
    ]
    if len(chosen) != 1:
        return 0  # execution reports the missing or ambiguous operation itself
    operation = chosen[0]
    root = schema.get_root_type(operation.operation)
    coerced = get_variable_values(schema, operation.variable_definitions or (), variables)
    if root is None or isinstance(coerced, list):
        return 0  # execution reports bad variables itself, with their own messages
    counter = _Counter(schema, fragments, coerced)
    return counter.count(root, operation.selection_set, 1)


class _Counter:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: dict[str, FragmentDefinitionNode],
        variables: dict[str, object],
    ) -> None:
        self._schema = schema
        self._fragments = fragments
        self._variables = variables

    def count(self, parent: GraphQLNamedType, selections: SelectionSetNode, factor: int) -> int:
        total = 0
        for selection in selections.selections:
            if isinstance(selection, FieldNode):
                total += self._field(parent, selection, factor)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                target = self._schema.get_type(condition.name.value) if condition else parent
                if target is not None:
                    total += self.count(target, selection.selection_set, factor)
            elif isinstance(selection, FragmentSpreadNode):
                fragment = self._fragments.get(selection.name.value)
                target = fragment and self._schema.get_type(fragment.type_condition.name.value)
                if fragment is not None and target is not None:
                    total += self.count(target, fragment.selection_set, factor)
        return total

    def _field(self, parent: GraphQLNamedType, node: FieldNode, factor: int) -> int:
        if not isinstance(parent, GraphQLObjectType) or node.name.value.startswith("__"):
            return 0
        definition: GraphQLField | None = parent.fields.get(node.name.value)
        if definition is None:
            return 0
        own = 0
        if SIZE_ARGUMENT in definition.args:
            size = get_argument_values(definition, node, self._variables).get(SIZE_ARGUMENT)
            factor *= max(int(size), 0) if isinstance(size, int) else 1
            own = factor
        if node.selection_set is None:
            return own
        return own + self.count(get_named_type(definition.type), node.selection_set, factor)
