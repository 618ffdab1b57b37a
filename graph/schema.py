"""The GraphQL schema: Query and Mutation, with the request limits and error coding.

Resolvers stay thin: they check who is asking, call a service (in a thread when it blocks) and
wrap plain rows in Strawberry types.
"""

from __future__ import annotations

import strawberry
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)
from strawberry.schema.config import StrawberryConfig

from graph.config import GraphQLLimits
from graph.context import Context
from graph.errors import unauthenticated
from graph.limits import MaxNodesLimiter
from graph.services.accounts import MIN_PASSWORD_LENGTH, Authenticated, Rejected
from graph.services.catalog import Rail
from graph.services.ratings import InvalidRatingError, MovieNotFoundError
from graph.types.auth_payload import AuthPayload
from graph.types.errors import (
    InvalidCredentials,
    InvalidRating,
    InvalidUsername,
    MovieNotFound,
    PasswordTooShort,
    TooManyAttempts,
    UsernameTaken,
)
from graph.types.movie import Movie, recommended_movies
from graph.types.movie_connection import MovieConnection, MovieEdge, MovieOrder
from graph.types.page_info import decode_cursor, encode_cursor, page_info
from graph.types.rating_payload import RatingPayload
from graph.types.results import LoginResult, RateMovieResult, RemoveRatingResult, SignUpResult
from graph.types.user import User

Info = strawberry.Info[Context, None]

# Distinct query texts kept parsed and validated; clients send a handful of fixed queries.
QUERY_CACHE_SIZE = 256


async def _rail(info: Info, rail: Rail, first: int) -> list[Movie]:
    rows = await info.context.run(info.context.services.catalog.rail, rail, first)
    return [Movie.from_row(row) for row in rows]


@strawberry.type
class Query:
    @strawberry.field(description="The signed-in user; null without a valid token.")
    async def viewer(self, info: Info) -> User | None:
        if info.context.viewer_id is None:
            return None
        row = await info.context.run(info.context.services.accounts.user, info.context.viewer_id)
        return User.from_row(row) if row else None

    @strawberry.field
    async def movie(self, info: Info, id: int) -> Movie | None:
        row = await info.context.loaders.movie.load(id)
        return Movie.from_row(row) if row else None

    @strawberry.field(description="Search by title (case-insensitive substring) and genre.")
    async def movies(
        self,
        info: Info,
        search: str | None = None,
        genre: str | None = None,
        first: int = 20,
        after: str | None = None,
        order_by: MovieOrder = MovieOrder.POPULARITY,
    ) -> MovieConnection:
        offset = decode_cursor(after)
        catalog = info.context.services.catalog
        rows, total = await info.context.run(
            lambda: catalog.search(
                search=search, genre=genre, order=order_by.store_order, first=first, offset=offset
            )
        )
        edges = [
            MovieEdge(cursor=encode_cursor(offset + index), node=Movie.from_row(row))
            for index, row in enumerate(rows)
        ]
        return MovieConnection(
            edges=edges, page_info=page_info(offset, len(edges), total), total_count=total
        )

    @strawberry.field(description="The viewer's recommendations; UNAUTHENTICATED when signed out.")
    async def recommendations(
        self, info: Info, first: int = 10, genre: str | None = None
    ) -> list[Movie]:
        return await recommended_movies(info, info.context.require_viewer(), first, genre)

    @strawberry.field
    async def genres(self, info: Info) -> list[str]:
        return await info.context.run(info.context.services.catalog.genres)

    @strawberry.field(description="Best Bayesian-averaged rating (prior: 50 ratings at the mean).")
    async def featured(self, info: Info, first: int = 20) -> list[Movie]:
        return await _rail(info, Rail.FEATURED, first)

    @strawberry.field(description="Most rated in the 90 days before the newest rating.")
    async def trending(self, info: Info, first: int = 20) -> list[Movie]:
        return await _rail(info, Rail.TRENDING, first)

    @strawberry.field(description="Most recently first rated: when a movie came into use.")
    async def newly_added(self, info: Info, first: int = 20) -> list[Movie]:
        return await _rail(info, Rail.NEWLY_ADDED, first)


_REJECTIONS = {
    "InvalidCredentials": lambda r: InvalidCredentials(
        code="INVALID_CREDENTIALS", message=r.message
    ),
    "TooManyAttempts": lambda r: TooManyAttempts(
        code="TOO_MANY_ATTEMPTS", message=r.message, retry_after_seconds=r.retry_after_seconds
    ),
    "UsernameTaken": lambda r: UsernameTaken(code="USERNAME_TAKEN", message=r.message),
    "InvalidUsername": lambda r: InvalidUsername(code="INVALID_USERNAME", message=r.message),
    "PasswordTooShort": lambda r: PasswordTooShort(
        code="PASSWORD_TOO_SHORT", message=r.message, min_length=MIN_PASSWORD_LENGTH
    ),
}


def _auth_result(outcome: Authenticated | Rejected) -> object:
    if isinstance(outcome, Rejected):
        return _REJECTIONS[outcome.reason](outcome)
    return AuthPayload(
        token=outcome.token.token,
        expires_at=outcome.token.expires_at,
        user=User.from_row(outcome.user),
    )


async def _rating_payload(info: Info, viewer_id: int, movie_id: int) -> RatingPayload:
    context = info.context
    row = await context.loaders.movie.load(movie_id)
    user = await context.run(context.services.accounts.user, viewer_id)
    if row is None or user is None:  # both were checked by the write a moment ago
        raise LookupError(f"movie {movie_id} or user {viewer_id} vanished")
    rated = await context.run(context.services.ratings.of_movies, viewer_id, [movie_id])
    return RatingPayload(
        movie=Movie.from_row(row), rating=rated.get(movie_id), viewer=User.from_row(user)
    )


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Sign in; failed attempts are rate-limited.")
    async def login(self, info: Info, username: str, password: str) -> LoginResult:
        accounts = info.context.services.accounts
        outcome = await info.context.threads.run_password_work(
            accounts.login, username, password, info.context.client
        )
        return _auth_result(outcome)

    @strawberry.mutation(description="Create an account: [a-z0-9_]{3,30}, password >= 8.")
    async def sign_up(self, info: Info, username: str, password: str) -> SignUpResult:
        accounts = info.context.services.accounts
        outcome = await info.context.threads.run_password_work(accounts.sign_up, username, password)
        return _auth_result(outcome)

    @strawberry.mutation(
        description="Sign out: the token sent with this request stops working at once "
        "(the user's other sessions stay signed in)."
    )
    async def logout(self, info: Info) -> bool:
        context = info.context
        context.require_viewer()
        token = context.bearer_token
        # The token passed the check a moment ago; it can only have expired since.
        if token is None or not await context.run(context.services.accounts.logout, token):
            raise unauthenticated()
        return True

    @strawberry.mutation(description="Rate a movie 0.5 to 5.0 in half stars (replaces any rating).")
    async def rate_movie(self, info: Info, movie_id: int, rating: float) -> RateMovieResult:
        viewer_id = info.context.require_viewer()
        try:
            await info.context.run(info.context.services.ratings.rate, viewer_id, movie_id, rating)
        except InvalidRatingError as exc:
            return InvalidRating(code="INVALID_RATING", message=str(exc))
        except MovieNotFoundError as exc:
            return MovieNotFound(code="MOVIE_NOT_FOUND", message=str(exc))
        return await _rating_payload(info, viewer_id, movie_id)

    @strawberry.mutation
    async def remove_rating(self, info: Info, movie_id: int) -> RemoveRatingResult:
        viewer_id = info.context.require_viewer()
        try:
            await info.context.run(info.context.services.ratings.remove, viewer_id, movie_id)
        except MovieNotFoundError as exc:
            return MovieNotFound(code="MOVIE_NOT_FOUND", message=str(exc))
        return await _rating_payload(info, viewer_id, movie_id)


class _Schema(strawberry.Schema):
    def process_errors(self, errors: list, execution_context: object = None) -> None:
        """Silenced: ``graph.errors.coded`` logs the unexpected errors, with tracebacks, once."""


def build_schema(limits: GraphQLLimits) -> strawberry.Schema:
    """The schema with its limits; parsing and validation are cached per query text.

    The limit rules are built once here, so they are the same objects in every request and the
    validation cache (keyed by document and rules) hits for the queries clients repeat.
    """
    rules = [
        *QueryDepthLimiter(max_depth=limits.max_query_depth).validation_rules,
        *MaxAliasesLimiter(max_alias_count=limits.max_aliases).validation_rules,
    ]
    return _Schema(
        query=Query,
        mutation=Mutation,
        config=StrawberryConfig(batching_config={"max_operations": limits.max_batch_operations}),
        # Factories, not instances: an extension holds per-request state.
        extensions=[
            lambda: MaxTokensLimiter(max_token_count=limits.max_tokens),
            lambda: MaxNodesLimiter(max_nodes=limits.max_nodes),
            lambda: ParserCache(maxsize=QUERY_CACHE_SIZE),
            lambda: AddValidationRules(rules),
            lambda: ValidationCache(maxsize=QUERY_CACHE_SIZE),
        ],
    )
