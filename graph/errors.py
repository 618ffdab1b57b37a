"""Every error code the API sends, GraphQL errors that carry one, and the typed user errors.

Two kinds of error leave the server. **GraphQL errors** (``errors[].extensions.code``): errors
raised on purpose carry their code (``unauthenticated``, the permissions); a service's
``InvalidInputError`` becomes BAD_USER_INPUT with its message; anything else raised while
resolving is a bug: the client sees only "Internal server error." (no stack trace, no SQL) and
the log gets the traceback; parse and validation errors (the request limits included) get
GRAPHQL_VALIDATION_FAILED, and an operation over the request's cost budget COST_LIMIT_EXCEEDED.
**User errors** are data: a mutation returns a type implementing ``UserError`` (a wrong
password, a taken name), which the client switches on by ``__typename``.
Both take their ``code`` from ``ErrorCode``, so one enum lists every code a client can meet.
"""

from __future__ import annotations

import logging
from enum import StrEnum
from typing import Any, ClassVar, Self

import strawberry
from graphql import GraphQLError

from graph.services.errors import InvalidInputError
from graph.services.outcomes import Rejected

log = logging.getLogger(__name__)


class ErrorCode(StrEnum):
    """The strings are the wire contract: clients compare them, so they never change."""

    # GraphQL errors: extensions.code
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    BAD_USER_INPUT = "BAD_USER_INPUT"
    BAD_REQUEST = "BAD_REQUEST"
    GRAPHQL_VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
    INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"
    # A request past its deadline (graph.router), stopped as a whole.
    TIMEOUT = "TIMEOUT"
    # An operation refused before it runs: it would cost more than the request's budget
    # (graph.cost); extensions also carry ``cost`` and ``budget``.
    COST_LIMIT_EXCEEDED = "COST_LIMIT_EXCEEDED"
    # User errors: the code field of a UserError
    INVALID_CREDENTIALS = "INVALID_CREDENTIALS"
    TOO_MANY_ATTEMPTS = "TOO_MANY_ATTEMPTS"
    USERNAME_TAKEN = "USERNAME_TAKEN"
    INVALID_USERNAME = "INVALID_USERNAME"
    PASSWORD_TOO_SHORT = "PASSWORD_TOO_SHORT"
    MOVIE_NOT_FOUND = "MOVIE_NOT_FOUND"
    INVALID_RATING = "INVALID_RATING"


def unauthenticated() -> GraphQLError:
    return GraphQLError(
        "sign in first: send Authorization: Bearer <token>",
        extensions={"code": ErrorCode.UNAUTHENTICATED.value},
    )


def forbidden() -> GraphQLError:
    return GraphQLError(
        "only the signed-in user's own account can be read",
        extensions={"code": ErrorCode.FORBIDDEN.value},
    )


def bad_user_input(message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": ErrorCode.BAD_USER_INPUT.value})


def coded(error: GraphQLError) -> GraphQLError:
    """The error as a client may see it, always with ``extensions.code``."""
    original = error.original_error
    if original is None or isinstance(original, GraphQLError):
        if error.extensions and "code" in error.extensions:
            return error
        return _with_code(error, error.message, ErrorCode.GRAPHQL_VALIDATION_FAILED)
    if isinstance(original, InvalidInputError):
        return _with_code(error, str(original), ErrorCode.BAD_USER_INPUT)
    log.error("unexpected error resolving %s", error.path, exc_info=original)
    return _with_code(error, "Internal server error.", ErrorCode.INTERNAL_SERVER_ERROR)


def _with_code(error: GraphQLError, message: str, code: ErrorCode) -> GraphQLError:
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions={**(error.extensions or {}), "code": code.value},
    )


def _fixed_per_type(description: str) -> Any:
    """A field each implementation fills itself (``__post_init__``), never its constructor.

    Strawberry gives every plain field a constructor argument; taking it away means a type's
    ``code`` cannot be passed wrong, only declared once as the class's ``CODE``.
    """
    field = strawberry.field(description=description)
    field.init = False
    return field


@strawberry.interface(
    name="UserError",
    description="An error the user caused and can fix, returned as data by a mutation: "
    "switch on __typename or code, and show message.",
)
class UserErrorType:
    """``UserError`` in the schema; ``...Type`` here because it is data, never raised.

    Each implementation declares its ``CODE`` once; ``code`` is filled from it, not passed.
    """

    CODE: ClassVar[ErrorCode]

    code: str = _fixed_per_type("Machine-readable and stable: clients compare it.")
    message: str = strawberry.field(description="Fit to show the user as it is.")

    def __post_init__(self) -> None:
        self.code = self.CODE.value

    @classmethod
    def from_rejected(cls, rejected: Rejected) -> Self:
        """The error for a service's refusal; types with more fields fill them here."""
        return cls(message=rejected.message)
