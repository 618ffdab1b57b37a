"""What an operation costs a worker, counted before it runs, against one budget per HTTP request.

Profiling the heaviest queries the earlier limits allowed (5,000 movies of 7 fields took 8 s
on a loaded machine) found the time in resolving fields, not in the store: each field of each
object costs graphql-core's and Strawberry's per-field work (resolve info, completion,
serialisation, about 10 µs here once the collector is tamed: ``graph.server.settle_heap``)
whatever the field, and each call of a list field that takes ``first`` is a service call,
most of them a trip to a thread (about 15 fields' worth). So:

- every field costs 1 for each object it is resolved on; a root field is resolved once;
- a field that takes ``first`` costs ``CALL_COST`` more per call (``CALL_COSTS`` for the
  few whose calls cost more: a ``movies`` search reads the whole catalog);
- below a list field there are ``first`` objects for each object above it; a connection
  (``movies(first: 100)``) is one object, and its ``edges`` list holds its ``first``;
- introspection (``__schema``, ``__type``, ``__typename``) costs nothing here: its answers
  are the schema's, small, and graphql-core's MaxIntrospectionDepthRule bounds their nesting.

``featured(first: 100) { id title }`` costs 11 + 100 × 2 = 211, and
``movies(first: 100) { edges { node { id title } } }`` 501 + 1 + 100 × 3 = 802. Fields
are counted as graphql-core resolves them: merged by response name at each place of the answer,
each fragment once there (``graph.limits.collect``), so a field asked for twice, or a fragment
spread 2^22 times, is resolved and costed once.

One HTTP request has one budget: the operations of a batch draw on it together, so ten
operations at the limit cost what one may, not ten times as much.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

from graphql import (
    DefinitionNode,
    FieldNode,
    GraphQLError,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    OperationDefinitionNode,
    SelectionSetNode,
    get_named_type,
    get_nullable_type,
    is_list_type,
)
from graphql.execution.values import VariableValues, get_argument_values, get_variable_values
from strawberry.extensions import SchemaExtension

from graph.errors import ErrorCode, bad_user_input
from graph.limits import collect, fragments_of
from graph.services.catalog import check_page_size
from graph.services.errors import InvalidInputError

SIZE_ARGUMENT = "first"
# A call of a field taking `first`, next to one field of one object: a `similar` call (a thread
# hop and a neighbour list) took about 0.17 ms of CPU, a field about 0.01 ms.
CALL_COST = 10
# Calls that cost more: a `movies` search or sort reads the whole catalog (5 to 15 ms of CPU
# for one call, measured in process on ml-latest-small), so fifteen aliased searches were
# the costliest request the budget let through.
CALL_COSTS = {("Query", "movies"): 500}


def operation_cost(
    schema: GraphQLSchema,
    definitions: Iterable[DefinitionNode],
    operation_name: str | None,
    variables: Mapping[str, object],
) -> int:
    """The cost of the operation the request names, given its variables; 0 when there is none.

    Raises ``InvalidInputError`` for a ``first`` out of range (see ``_first``).

    A missing or ambiguous operation and bad variables cost nothing here: execution reports
    them with their own messages. Walks the merged answer, as many fields as the document
    asks for once its fragments are spread (``graph.limits.crowding`` bounds them).
    """
    definitions = list(definitions)
    chosen = [
        d
        for d in definitions
        if isinstance(d, OperationDefinitionNode)
        and (operation_name is None or (d.name and d.name.value == operation_name))
    ]
    if len(chosen) != 1:
        return 0
    operation = chosen[0]
    root = schema.get_root_type(operation.operation)
    coerced = get_variable_values(schema, operation.variable_definitions or (), dict(variables))
    if root is None or isinstance(coerced, list):
        return 0
    fragments = fragments_of(definitions)
    total = 0
    # The fields at one place of the answer: their parent type, selection sets, how many
    # objects they are resolved on, and the `first` of the connection holding them, if any.
    stack: list[tuple[GraphQLNamedType, list[SelectionSetNode], int, int | None]] = [
        (root, [operation.selection_set], 1, None)
    ]
    while stack:
        parent, sets, objects, size = stack.pop()
        for fields in collect(sets, fragments).values():
            for owner, nodes in _by_owner(schema, parent, fields).items():
                definition = owner.fields.get(nodes[0].name.value)
                if definition is None or nodes[0].name.value.startswith("__"):
                    continue  # an unknown field fails validation; introspection is free
                first = _first(definition, nodes[0], coerced)
                if first is not None:
                    total += objects * CALL_COSTS.get((owner.name, nodes[0].name.value), CALL_COST)
                total += objects
                below = [node.selection_set for node in nodes if node.selection_set]
                if not below:
                    continue
                child = get_named_type(definition.type)
                if is_list_type(get_nullable_type(definition.type)):
                    count = first if first is not None else size if size is not None else 1
                    stack.append((child, below, objects * count, None))
                else:
                    stack.append((child, below, objects, first))
    return total


def _by_owner(
    schema: GraphQLSchema,
    parent: GraphQLNamedType,
    fields: list[tuple[str | None, FieldNode]],
) -> dict[GraphQLObjectType | GraphQLInterfaceType, list[FieldNode]]:
    """Same-named fields by the type that defines them: under a union, ``... on A { x }`` and
    ``... on B { x }`` are two fields, each costed (at most one applies to an object)."""
    owners: dict[GraphQLObjectType | GraphQLInterfaceType, list[FieldNode]] = {}
    for condition, node in fields:
        owner = schema.get_type(condition) if condition else parent
        if isinstance(owner, GraphQLObjectType | GraphQLInterfaceType):
            owners.setdefault(owner, []).append(node)
    return owners


def _first(definition: GraphQLField, field: FieldNode, variables: VariableValues) -> int | None:
    """The field's ``first`` (its default when not given), or None when it takes none.

    Raises ``InvalidInputError`` for a ``first`` out of range, the services' own check: then
    nothing runs. Refused during execution instead, inside a list (``similar`` of each movie),
    the error would unwind half-run siblings, and graphql-core 3.3.2 leaves some of their
    coroutines never awaited (warnings at random later moments: the flaky fuzz test).
    """
    if SIZE_ARGUMENT not in definition.args:
        return None
    value = get_argument_values(definition, field, variables).get(SIZE_ARGUMENT)
    if not isinstance(value, int):
        return 1
    check_page_size(value)
    return value


class RequestBudget:
    """The cost one HTTP request may still spend; a batch's operations share it."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.spent = 0

    def take(self, cost: int) -> bool:
        if self.spent + cost > self.limit:
            return False
        self.spent += cost
        return True


def over_budget(message: str, cost: int, budget: int) -> GraphQLError:
    return GraphQLError(
        message,
        extensions={"code": ErrorCode.COST_LIMIT_EXCEEDED.value, "cost": cost, "budget": budget},
    )


class CostLimiter(SchemaExtension):
    """Refuses, before it runs, an operation that would overdraw its request's budget.

    The budget is the context's (``graph.context.Context.budget``): one per HTTP request.
    """

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if document is not None:
            try:
                cost = operation_cost(
                    context.schema._schema,
                    document.definitions,
                    context.operation_name,
                    context.variables or {},
                )
            except InvalidInputError as exc:
                raise bad_user_input(str(exc)) from exc
            budget: RequestBudget = context.context.budget
            if cost > budget.limit:
                raise over_budget(
                    f"this query costs {cost:,} and the budget is {budget.limit:,} per request "
                    "(1 per field per object, 10 more per call of a field taking `first`, 500 "
                    "for `movies`): ask for fewer objects (lower `first`) or fields, or split it",
                    cost,
                    budget.limit,
                )
            if not budget.take(cost):
                raise over_budget(
                    f"this request's operations cost {budget.spent + cost:,} together and the "
                    f"budget is {budget.limit:,} per request: send fewer operations per batch",
                    budget.spent + cost,
                    budget.limit,
                )
        yield
