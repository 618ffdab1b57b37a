"""Mutation outcomes: a success payload or one of the typed errors, as GraphQL unions.

Errors a user can cause and fix (a wrong password, a taken name) are data, not GraphQL errors,
so clients switch on ``__typename`` and show ``message``.
"""

from __future__ import annotations

from typing import Annotated

import strawberry

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
from graph.types.rating_payload import RatingPayload

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
