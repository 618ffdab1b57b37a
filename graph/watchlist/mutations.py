"""Mutations of the watchlist domain: save and unsave a movie, for the signed-in viewer only."""

from __future__ import annotations

from typing import Annotated

import strawberry

from graph.accounts.user import User
from graph.context import Info
from graph.errors import UserErrorType
from graph.fields import mutation
from graph.movies.movie import Movie
from graph.permissions import IsAuthenticated, requires
from graph.ratings.errors import RATING_ERRORS, MovieNotFound
from graph.ratings.payload import movie_and_viewer
from graph.services.outcomes import Rejected


@strawberry.type(description="A movie saved to or taken off the viewer's watchlist.")
class WatchlistPayload:
    movie: Movie
    saved: bool = strawberry.field(description="Whether the movie is on the watchlist now.")
    viewer: User


WatchlistResult = Annotated[WatchlistPayload | MovieNotFound, strawberry.union("WatchlistResult")]


async def _result(
    info: Info, outcome: Rejected | None, movie_id: int, *, saved: bool
) -> WatchlistPayload | UserErrorType:
    """The typed error of a refused write, else the movie and the viewer as now."""
    if outcome is not None:
        return RATING_ERRORS[outcome.reason].from_rejected(outcome)
    movie, viewer = await movie_and_viewer(info, movie_id)
    return WatchlistPayload(movie=movie, saved=saved, viewer=viewer)


@strawberry.type
class WatchlistMutations:
    @mutation(
        description=(
            "Save a movie to watch later (saving it again changes nothing). A saved movie "
            "leaves the viewer's recommendations until it is unsaved, and leaves the watchlist "
            "when the viewer rates it."
        ),
        graphql_type=WatchlistResult,
        extensions=requires(IsAuthenticated()),
    )
    async def add_to_watchlist(self, info: Info, movie_id: int) -> WatchlistPayload | UserErrorType:
        context = info.context
        watchlist = context.services.watchlist
        outcome = await context.run(watchlist.save, context.authenticated_id, movie_id)
        return await _result(info, outcome, movie_id, saved=True)

    @mutation(
        description="Take a movie off the watchlist (not on it is fine).",
        graphql_type=WatchlistResult,
        extensions=requires(IsAuthenticated()),
    )
    async def remove_from_watchlist(
        self, info: Info, movie_id: int
    ) -> WatchlistPayload | UserErrorType:
        context = info.context
        watchlist = context.services.watchlist
        outcome = await context.run(watchlist.unsave, context.authenticated_id, movie_id)
        return await _result(info, outcome, movie_id, saved=False)
