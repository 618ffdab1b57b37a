"""The result of rating or un-rating a movie: the movie, the stored rating, the viewer."""

from __future__ import annotations

import strawberry

from graph.accounts.user import User
from graph.movies.movie import Movie


@strawberry.type
class RatingPayload:
    movie: Movie
    rating: float | None = strawberry.field(description="Null after removeRating.")
    viewer: User
