"""Mutation outcomes: the success payloads, the typed errors, and the unions joining them.

Errors a user can cause and fix (a wrong password, a taken name) are data, not GraphQL errors,
so clients switch on ``__typename`` and show ``message``; each also carries a stable ``code``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from graph.types.movie import Movie
from graph.types.user import User


@strawberry.type
class AuthPayload:
    token: str
    expires_at: datetime
    user: User


@strawberry.type
class RatingPayload:
    movie: Movie
    rating: float | None
    viewer: User


@strawberry.type
class InvalidCredentials:
    code: str
    message: str


@strawberry.type
class TooManyAttempts:
    code: str
    message: str
    retry_after_seconds: int


@strawberry.type
class UsernameTaken:
    code: str
    message: str


@strawberry.type
class InvalidUsername:
    code: str
    message: str


@strawberry.type
class PasswordTooShort:
    code: str
    message: str
    min_length: int


@strawberry.type
class MovieNotFound:
    code: str
    message: str


@strawberry.type
class InvalidRating:
    code: str
    message: str


LoginResult = Annotated[
    AuthPayload | InvalidCredentials | TooManyAttempts, strawberry.union("LoginResult")
]
SignUpResult = Annotated[
    AuthPayload | UsernameTaken | InvalidUsername | PasswordTooShort,
    strawberry.union("SignUpResult"),
]
RateMovieResult = Annotated[
    RatingPayload | MovieNotFound | InvalidRating, strawberry.union("RateMovieResult")
]
RemoveRatingResult = Annotated[
    RatingPayload | MovieNotFound, strawberry.union("RemoveRatingResult")
]
