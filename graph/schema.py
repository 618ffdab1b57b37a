"""The GraphQL schema, assembled from its domains, with the request limits and error coding.

Each domain (``movies``, ``accounts``, ``ratings``, ``recommendations``, ``watchlist``) holds
its types, its Query and Mutation fields, and its loaders; this module only merges them into one
schema. The
order below keeps each root type's fields where ``schema.graphql`` has always listed them.
"""

from __future__ import annotations

import strawberry
from graphql import ASTValidationRule, GraphQLError
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext

from graph.accounts.mutations import AccountMutations
from graph.accounts.queries import AccountQueries
from graph.config import GraphQLLimits
from graph.context import Mutations
from graph.cost import CostLimiter, Prices
from graph.limits import shape_rule
from graph.metrics import OperationMetrics
from graph.movies.queries import BrowseQueries, MovieQueries
from graph.ratings.mutations import RatingMutations
from graph.recommendations.queries import RecommendationQueries
from graph.validation import CheckedDocuments, DocumentCache, FieldLimits
from graph.watchlist.mutations import WatchlistMutations

Query = merge_types("Query", (AccountQueries, MovieQueries, RecommendationQueries, BrowseQueries))
Mutation = merge_types("Mutation", (AccountMutations, RatingMutations, WatchlistMutations))


class _Schema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Silenced: ``graph.errors.coded`` logs the unexpected errors, with tracebacks, once."""


def build_schema(limits: GraphQLLimits) -> strawberry.Schema:
    """The schema with its limits; parsing, validation and cost are cached per query text.

    The limit rules are built once here, so they are the same objects in every request and the
    schema's one document cache (keyed by query text) holds outcomes of the same rules.
    """
    rules: list[type[ASTValidationRule]] = [
        shape_rule(max_depth=limits.max_query_depth, max_aliases=limits.max_aliases)
    ]
    documents = DocumentCache()
    fields = FieldLimits(limits.max_same_name_fields, limits.max_expanded_fields)
    prices = Prices()
    return _Schema(
        query=Query,
        mutation=Mutation,
        config=StrawberryConfig(batching_config={"max_operations": limits.max_batch_operations}),
        # Factories, not instances: an extension holds per-request state.
        extensions=[
            OperationMetrics,
            Mutations,  # before a mutation's resolvers run: see Context.known_ranking_version
            lambda: CostLimiter(prices),  # against the request's budget: see Context.budget
            lambda: CheckedDocuments(documents, fields, rules, limits.max_tokens),
        ],
    )
