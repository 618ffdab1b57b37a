"""The typed errors of signing up and logging in, and the refusal each one answers."""

from __future__ import annotations

from typing import Self

import strawberry

from graph.errors import ErrorCode, UserErrorType
from graph.services.accounts import MIN_PASSWORD_LENGTH
from graph.services.outcomes import Refusal, Rejected


@strawberry.type(description="Unknown username or wrong password; which of the two is not said.")
class InvalidCredentials(UserErrorType):
    CODE = ErrorCode.INVALID_CREDENTIALS


@strawberry.type(
    description="Too many failed logins for this username or address, or sign-ups from this "
    "address: wait retryAfterSeconds."
)
class TooManyAttempts(UserErrorType):
    CODE = ErrorCode.TOO_MANY_ATTEMPTS
    retry_after_seconds: int

    @classmethod
    def from_rejected(cls, rejected: Rejected) -> Self:
        return cls(message=rejected.message, retry_after_seconds=rejected.retry_after_seconds)


@strawberry.type(
    description="Someone has this username already, in any mix of upper and lower case."
)
class UsernameTaken(UserErrorType):
    CODE = ErrorCode.USERNAME_TAKEN


@strawberry.type(
    description="A username is 3 to 30 characters: lowercase letters, digits, underscores."
)
class InvalidUsername(UserErrorType):
    CODE = ErrorCode.INVALID_USERNAME


@strawberry.type(description="The password is shorter than minLength characters.")
class PasswordTooShort(UserErrorType):
    CODE = ErrorCode.PASSWORD_TOO_SHORT
    min_length: int

    @classmethod
    def from_rejected(cls, rejected: Rejected) -> Self:
        return cls(message=rejected.message, min_length=MIN_PASSWORD_LENGTH)


ACCOUNT_ERRORS: dict[Refusal, type[UserErrorType]] = {
    Refusal.INVALID_CREDENTIALS: InvalidCredentials,
    Refusal.TOO_MANY_ATTEMPTS: TooManyAttempts,
    Refusal.USERNAME_TAKEN: UsernameTaken,
    Refusal.INVALID_USERNAME: InvalidUsername,
    Refusal.PASSWORD_TOO_SHORT: PasswordTooShort,
}
