"""The result of rating or un-rating a movie: the movie, the stored rating, the viewer."""

from __future__ import annotations

import strawberry

from graph.accounts.user import User
from graph.context import Info
from graph.movies.movie import Movie


async def movie_and_viewer(info: Info, movie_id: int) -> tuple[Movie, User]:
    """The movie and the viewer as they are after an accepted write, for the payload of every
    mutation that acts on one movie for the viewer (ratings, the watchlist)."""
    context = info.context
    viewer_id = context.authenticated_id
    row = await context.loaders.movie.load(movie_id)
    user = await context.run(context.services.accounts.user, viewer_id)
    if row is None or user is None:  # both were checked by the write a moment ago
        raise LookupError(f"movie {movie_id} or user {viewer_id} vanished")
    return Movie.from_row(row), User.from_row(user)


@strawberry.type
class RatingPayload:
    movie: Movie
    rating: float | None = strawberry.field(description="Null after removeRating.")
    viewer: User
