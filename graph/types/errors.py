"""Typed errors returned as data by mutations, each with a stable ``code`` and a ``message``.

Kept in one module because they are one idea: seven small shapes a client switches on by
``__typename``; splitting them would scatter a single list.
"""

from __future__ import annotations

import strawberry


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
