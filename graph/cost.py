"""What an operation costs a worker, counted before it runs, against one budget per HTTP request.

Profiling the heaviest queries the earlier limits allowed (5,000 movies of 7 fields took 8 s
on a loaded machine) found the time in resolving fields, not in the store: each field of each
object costs graphql-core's and Strawberry's per-field work (resolve info, completion,
serialisation, about 10 µs here once the collector is tamed: ``graph.server.settle_heap``)
whatever the field, and each call of a list field that takes ``first`` is a service call,
most of them a trip to a thread (about 15 fields' worth). So:

- every field costs 1 for each object it is resolved on (``OBJECT_COSTS`` for the one whose
  resolution costs more: a movie's ``ratingStats``, an SQL aggregate); a root field is
  resolved once;
- a field that takes ``first`` costs ``CALL_COST`` more per call (``CALL_COSTS`` for the
  few whose calls cost more: a ``movies`` search reads the whole catalog);
- below a list field there are ``first`` objects for each object above it; a connection
  (``movies(first: 100)``) is one object, and its ``edges`` list holds its ``first``; a list
  without ``first`` holds 1, or its maximum where it has one (``LIST_SIZES``: 3 reasons);
- introspection (``__schema``, ``__type``) costs like any field, its lists (``types``,
  ``fields``, ...) and ``ofType`` counted at their average size over this schema: GraphiQL's
  introspection query costs about 3,200, near the 2,700 values of its answer
  (``_introspection_lists``); ``__typename`` is free.

``featured(first: 100) { id title }`` costs 11 + 100 × 2 = 211, and
``movies(first: 100) { edges { node { id title } } }`` 501 + 1 + 100 × 3 = 802. Fields
are counted as graphql-core resolves them: merged by response name at each place of the answer,
each fragment once there (``graph.limits.collect``), so a field asked for twice, or a fragment
spread 2^22 times, is resolved and costed once.

One HTTP request has one budget: the operations of a batch draw on it together, so ten
operations at the limit cost what one may, not ten times as much.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache

from graphql import (
    DefinitionNode,
    DocumentNode,
    FieldNode,
    GraphQLEnumType,
    GraphQLError,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLType,
    GraphQLUnionType,
    GraphQLWrappingType,
    OperationDefinitionNode,
    SchemaMetaFieldDef,
    SelectionSetNode,
    TypeMetaFieldDef,
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
from graph.services.recommendations import REASONS

SIZE_ARGUMENT = "first"
# A call of a field taking `first`, next to one field of one object: a `similar` call (a thread
# hop and a neighbour list) took about 0.17 ms of CPU, a field about 0.01 ms.
CALL_COST = 10
# Calls that cost more, in units of one field on one object, measured in process with
# bench/field_costs.py (median of 5 rounds; one unit was 13-24 us of CPU on the loaded
# machine): a `movies` search or sort reads the whole catalog (225-330, rounds up to 711;
# fifteen aliased searches were the costliest request the budget let through); a viewer's
# recommendations score every movie and read the viewer's ratings and watchlist (101-204);
# a page of them ranks RECOMMENDATION_DEPTH first (137-308); the viewer's ratings (119-136)
# and watchlist (45-56) are a read each; a rail is a cached list, its page and count (23-40).
_RAIL = 30
_RECOMMENDATIONS = 200
CALL_COSTS = {
    ("Query", "movies"): 500,
    ("Query", "recommendations"): _RECOMMENDATIONS,
    ("User", "recommendations"): _RECOMMENDATIONS,
    ("Query", "pagedRecommendations"): _RECOMMENDATIONS,
    ("User", "ratings"): 120,
    ("User", "watchlist"): 50,
    ("Query", "featured"): _RAIL,
    ("Query", "trending"): _RAIL,
    ("Query", "newlyAdded"): _RAIL,
    ("Query", "rail"): _RAIL,
}
# Fields that cost more than 1 on each object they are resolved on, in the same units, measured
# with bench/field_costs.py on the 100 most-rated movies: a movie's ``ratingStats`` aggregates
# its ratings in SQL (the more rated the movie, the longer) behind a DataLoader's future, 16.9
# units (8.9-36.1 over 5 rounds at load 13-19) against the 3 it was charged with its two
# fields; nine aliased pages of 100 cost 9,018 and took 375-427 ms of CPU. The viewer's fields
# (viewerRating, inWatchlist, predictedRating, because) measure 7-12 but stay at 1: the web app
# asks them of 100 movies a page, and their measured weight would take its costliest query past
# a fifth of the budget; ``LOADED_FIELDS`` bounds them instead.
OBJECT_COSTS = {("Movie", "ratingStats"): 17}
# Lists that take no `first` but hold several objects: at most this many (a movie's reasons).
LIST_SIZES = {("Movie", "because"): REASONS}
# Fields resolved on each object through the request's DataLoaders: each resolution is a
# coroutine, a loader future and, beside another such field, a task, which graphql-core and
# Strawberry make and complete one by one. Measured per object (bench/field_costs.py) they
# weigh 7-17 fields, more than the weight they are charged where the web app needs them (its
# "See all" page of 100 recommendations asks 600 of them); a request holds at most
# ``GraphQLLimits.max_loaded_fields`` of them instead.
LOADED_FIELDS = frozenset(
    {
        ("Movie", "ratingStats"),
        ("Movie", "viewerRating"),
        ("Movie", "inWatchlist"),
        ("Movie", "predictedRating"),
        ("Movie", "because"),
        ("Movie", "similar"),
        ("Rating", "movie"),
        ("Reason", "movie"),
    }
)


@dataclass(frozen=True)
class Price:
    """What an operation costs (the budget's units) and how many loaded fields it resolves."""

    cost: int
    loads: int


def operation_cost(
    schema: GraphQLSchema,
    definitions: Iterable[DefinitionNode],
    operation_name: str | None,
    variables: Mapping[str, object],
) -> int:
    """The cost of the operation the request names (``operation_price``'s cost)."""
    return operation_price(schema, definitions, operation_name, variables).cost


def operation_price(
    schema: GraphQLSchema,
    definitions: Iterable[DefinitionNode],
    operation_name: str | None,
    variables: Mapping[str, object],
) -> Price:
    """The price of the operation the request names, given its variables; 0 when there is none.

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
        return Price(0, 0)
    operation = chosen[0]
    root = schema.get_root_type(operation.operation)
    coerced = get_variable_values(schema, operation.variable_definitions or (), dict(variables))
    if root is None or isinstance(coerced, list):
        return Price(0, 0)
    fragments = fragments_of(definitions)
    total = loads = 0.0
    # The fields at one place of the answer: their parent type, selection sets, how many
    # objects they are resolved on, and the `first` of the connection holding them, if any.
    stack: list[tuple[GraphQLNamedType, list[SelectionSetNode], float, int | None]] = [
        (root, [operation.selection_set], 1, None)
    ]
    while stack:
        parent, sets, objects, size = stack.pop()
        for fields in collect(sets, fragments).values():
            for owner, nodes in _by_owner(schema, parent, fields).items():
                name = nodes[0].name.value
                key = (owner.name, name)
                definition = owner.fields.get(name) or _meta_field(schema, owner, name)
                if definition is None:
                    continue  # an unknown field fails validation; __typename is free
                first = _first(definition, nodes[0], coerced)
                if first is not None:
                    total += objects * CALL_COSTS.get(key, CALL_COST)
                total += objects * OBJECT_COSTS.get(key, 1)
                if key in LOADED_FIELDS:
                    loads += objects
                below = [node.selection_set for node in nodes if node.selection_set]
                if not below:
                    continue
                child = get_named_type(definition.type)
                # Introspection's lists and ``ofType``: how many objects they hold on average.
                average = _introspection_lists(schema).get((owner.name, name))
                if is_list_type(get_nullable_type(definition.type)):
                    count = first if first is not None else size if size is not None else None
                    count = LIST_SIZES.get(key, 1) if count is None else count
                    held = count if average is None else average
                    stack.append((child, below, objects * held, None))
                else:
                    held = 1 if average is None else average
                    stack.append((child, below, objects * held, first))
    return Price(math.ceil(total), math.ceil(loads))


def _meta_field(
    schema: GraphQLSchema, owner: GraphQLObjectType | GraphQLInterfaceType, name: str
) -> GraphQLField | None:
    """``__schema`` and ``__type`` on the query type: fields no type lists, costed like any."""
    if owner is not schema.query_type:
        return None
    return {"__schema": SchemaMetaFieldDef, "__type": TypeMetaFieldDef}.get(name)


@cache
def _introspection_lists(schema: GraphQLSchema) -> dict[tuple[str, str], float]:
    """How many objects each introspection field holding more types answers with, on average
    over this schema: its lists take no ``first``, and ``ofType`` is null at a chain's end.

    Counted as 1 object each, 15 aliased introspections of every type's fields and arguments
    cost nothing and took 140-220 ms of server CPU (bench/attack.py). Averages, not maxima: the
    walk multiplies the levels, so an answer over every type is counted near its real size
    (GraphiQL's introspection query, ``tests/graph/test_cost.py``); ``__type(name: "Query")``
    a little under it. ``ofType``: a type reference is wrapped (non-null, list) ``depth`` times
    on average, so each level of the chain is there with odds ``depth / (1 + depth)``.
    """
    types = list(schema.type_map.values())
    with_fields = [t for t in types if isinstance(t, GraphQLObjectType | GraphQLInterfaceType)]
    fields = [f for t in with_fields for f in t.fields.values()]
    arguments = [a for f in fields for a in f.args.values()]
    inputs = [f for t in types if isinstance(t, GraphQLInputObjectType) for f in t.fields.values()]
    enum_values = sum(len(t.values) for t in types if isinstance(t, GraphQLEnumType))
    interfaces = sum(len(t.interfaces) for t in types if isinstance(t, GraphQLObjectType))
    possible = sum(
        len(schema.get_possible_types(t))
        for t in types
        if isinstance(t, GraphQLInterfaceType | GraphQLUnionType)
    )
    directives = list(schema.directives)
    references = [f.type for f in [*fields, *arguments, *inputs]]
    depth = sum(_wrappers(t) for t in references) / max(len(references), 1)

    def average(total: int, over: int) -> float:
        return total / max(over, 1)

    return {
        ("__Schema", "types"): len(types),
        ("__Schema", "directives"): len(directives),
        ("__Type", "fields"): average(len(fields), len(types)),
        ("__Type", "interfaces"): average(interfaces, len(types)),
        ("__Type", "possibleTypes"): average(possible, len(types)),
        ("__Type", "enumValues"): average(enum_values, len(types)),
        ("__Type", "inputFields"): average(len(inputs), len(types)),
        ("__Type", "ofType"): depth / (1 + depth),
        ("__Field", "args"): average(len(arguments), len(fields)),
        ("__Directive", "args"): average(sum(len(d.args) for d in directives), len(directives)),
        ("__Directive", "locations"): average(
            sum(len(d.locations) for d in directives), len(directives)
        ),
    }


def _wrappers(reference: GraphQLType) -> int:
    """How many non-null and list wrappers a type reference has around its named type."""
    count = 0
    while isinstance(reference, GraphQLWrappingType):
        reference = reference.of_type
        count += 1
    return count


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
    """The cost and loaded fields one HTTP request may still spend; a batch's operations share
    them."""

    def __init__(self, limit: int, max_loads: int) -> None:
        self.limit = limit
        self.max_loads = max_loads
        self.spent = 0
        self.loaded = 0

    def refusal(self, price: Price) -> GraphQLError | None:
        """Why the request cannot spend ``price`` (for its operation alone, or with the batch's
        others), or None after spending it."""
        if price.cost > self.limit:
            return self._over(
                f"this query costs {price.cost:,} and the budget is {self.limit:,} per request "
                "(1 per field per object, more for ratingStats, 10 to 500 more per call of a "
                "field taking `first`, by what the call costs): ask for fewer objects (lower "
                "`first`) or fields, or split it",
                price,
            )
        if price.loads > self.max_loads:
            return self._over(
                f"this query resolves {price.loads:,} per-movie fields through loaders "
                "(ratingStats, viewerRating, inWatchlist, predictedRating, because, similar, a "
                f"rating's or a reason's movie) and at most {self.max_loads:,} are allowed per "
                "request: ask them of fewer movies, or split it",
                price,
            )
        together = Price(self.spent + price.cost, self.loaded + price.loads)
        if together.cost > self.limit or together.loads > self.max_loads:
            return self._over(
                f"this request's operations cost {together.cost:,} together, with "
                f"{together.loads:,} loaded fields, and the budget is {self.limit:,} per request "
                f"with at most {self.max_loads:,} loaded fields: send fewer operations per batch",
                together,
            )
        self.spent, self.loaded = together.cost, together.loads
        return None

    def _over(self, message: str, price: Price) -> GraphQLError:
        return GraphQLError(
            message,
            extensions={
                "code": ErrorCode.COST_LIMIT_EXCEEDED.value,
                "cost": price.cost,
                "budget": self.limit,
                "loadedFields": price.loads,
                "maxLoadedFields": self.max_loads,
            },
        )


# Operations whose price ``Prices`` keeps: clients send a handful of fixed queries.
PRICES_KEPT = 256


class Prices:
    """The price of each operation without variables, per parsed document.

    Used by both event loops' threads (``graph.router``), each access one dict operation.

    Such a price depends only on the document and the operation's name, and the schema's
    document cache (``graph.validation``) hands out the same parsed document for the same
    text, so walking it again for every request would find the same price. Keyed by the
    document's identity (graphql-core hashes and compares documents node by node): each entry
    holds its document, so the identity cannot pass to another document while it is kept.
    """

    def __init__(self, size: int = PRICES_KEPT) -> None:
        self._size = size
        self._entries: dict[tuple[int, str | None], tuple[DocumentNode, Price]] = {}

    def get(self, document: DocumentNode, operation_name: str | None) -> Price | None:
        entry = self._entries.get((id(document), operation_name))
        return entry[1] if entry is not None and entry[0] is document else None

    def put(self, document: DocumentNode, operation_name: str | None, price: Price) -> None:
        if len(self._entries) >= self._size:
            self._entries.clear()  # a stream of new texts: their prices are walked again
        self._entries[(id(document), operation_name)] = (document, price)


class CostLimiter(SchemaExtension):
    """Refuses, before it runs, an operation that would overdraw its request's budget.

    The budget is the context's (``graph.context.Context.budget``): one per HTTP request.
    """

    def __init__(self, prices: Prices) -> None:
        super().__init__()
        self.prices = prices

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if document is not None:
            variables = context.variables or {}
            price = None if variables else self.prices.get(document, context.operation_name)
            if price is None:
                try:
                    price = operation_price(
                        context.schema._schema,
                        document.definitions,
                        context.operation_name,
                        variables,
                    )
                except InvalidInputError as exc:
                    raise bad_user_input(str(exc)) from exc
                if not variables:
                    self.prices.put(document, context.operation_name, price)
            budget: RequestBudget = context.context.budget
            refusal = budget.refusal(price)
            if refusal is not None:
                raise refusal
        yield
