"""The typed errors of rating and un-rating, and the refusal each one answers."""

from __future__ import annotations

import strawberry

from graph.errors import ErrorCode, UserErrorType
from graph.services.outcomes import Refusal


@strawberry.type(description="No movie has the given id.")
class MovieNotFound(UserErrorType):
    CODE = ErrorCode.MOVIE_NOT_FOUND


@strawberry.type(description="A rating is 0.5 to 5.0 in steps of 0.5.")
class InvalidRating(UserErrorType):
    CODE = ErrorCode.INVALID_RATING


RATING_ERRORS: dict[Refusal, type[UserErrorType]] = {
    Refusal.MOVIE_NOT_FOUND: MovieNotFound,
    Refusal.INVALID_RATING: InvalidRating,
}
