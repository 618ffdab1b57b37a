"""The typed errors of rating and un-rating, and the refusal each one answers."""

from __future__ import annotations

import strawberry

from data.domain import RATING_SCALE
from graph.errors import ErrorCode, UserErrorType
from graph.services.outcomes import Refusal


@strawberry.type(description="No movie has the given id.")
class MovieNotFound(UserErrorType):
    CODE = ErrorCode.MOVIE_NOT_FOUND


@strawberry.type(description=f"A rating is {RATING_SCALE.describe()}.")
class InvalidRating(UserErrorType):
    CODE = ErrorCode.INVALID_RATING


RATING_ERRORS: dict[Refusal, type[UserErrorType]] = {
    Refusal.MOVIE_NOT_FOUND: MovieNotFound,
    Refusal.INVALID_RATING: InvalidRating,
}
