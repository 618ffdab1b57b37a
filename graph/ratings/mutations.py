"""Mutations of the ratings domain: rate and un-rate a movie, for the signed-in viewer only."""

from __future__ import annotations

from typing import Annotated

import strawberry

from graph.context import Info
from graph.errors import UserErrorType
from graph.fields import mutation
from graph.permissions import IsAuthenticated, requires
from graph.ratings.errors import RATING_ERRORS, InvalidRating, MovieNotFound
from graph.ratings.payload import RatingPayload, movie_and_viewer
from graph.services.outcomes import Rejected

RateMovieResult = Annotated[
    RatingPayload | MovieNotFound | InvalidRating, strawberry.union("RateMovieResult")
]
RemoveRatingResult = Annotated[
    RatingPayload | MovieNotFound, strawberry.union("RemoveRatingResult")
]


async def _result(
    info: Info, outcome: Rejected | None, movie_id: int
) -> RatingPayload | UserErrorType:
    """The typed error of a refused write, else the movie, its rating and the viewer as now."""
    if outcome is not None:
        return RATING_ERRORS[outcome.reason].from_rejected(outcome)
    movie, viewer = await movie_and_viewer(info, movie_id)
    context = info.context
    rated = await context.run(
        context.services.ratings.of_movies, context.authenticated_id, [movie_id]
    )
    return RatingPayload(movie=movie, rating=rated.get(movie_id), viewer=viewer)


@strawberry.type
class RatingMutations:
    @mutation(
        description="Rate a movie 0.5 to 5.0 in half stars (replaces any rating).",
        graphql_type=RateMovieResult,
        extensions=requires(IsAuthenticated()),
    )
    async def rate_movie(
        self, info: Info, movie_id: int, rating: float
    ) -> RatingPayload | UserErrorType:
        context = info.context
        ratings = context.services.ratings
        outcome = await context.run(ratings.rate, context.authenticated_id, movie_id, rating)
        return await _result(info, outcome, movie_id)

    @mutation(graphql_type=RemoveRatingResult, extensions=requires(IsAuthenticated()))
    async def remove_rating(self, info: Info, movie_id: int) -> RatingPayload | UserErrorType:
        context = info.context
        ratings = context.services.ratings
        outcome = await context.run(ratings.remove, context.authenticated_id, movie_id)
        return await _result(info, outcome, movie_id)
