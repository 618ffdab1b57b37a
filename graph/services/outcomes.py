"""Why a service refused a request the user can fix, as values both front ends switch on.

A refusal is data, not an exception: a wrong password or a taken name is an expected answer.
The services name the reason with ``Refusal``; each front end chooses its own wording and shape
(GraphQL maps it to a typed error, the legacy shim to a status code), so no service knows them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Refusal(Enum):
    INVALID_CREDENTIALS = "invalid_credentials"
    TOO_MANY_ATTEMPTS = "too_many_attempts"
    USERNAME_TAKEN = "username_taken"
    INVALID_USERNAME = "invalid_username"
    PASSWORD_TOO_SHORT = "password_too_short"
    MOVIE_NOT_FOUND = "movie_not_found"
    INVALID_RATING = "invalid_rating"


@dataclass(frozen=True, slots=True)
class Rejected:
    """A request refused before anything was written; ``message`` is fit to show the user."""

    reason: Refusal
    message: str
    retry_after_seconds: int = 0  # set with TOO_MANY_ATTEMPTS
