"""GraphQL errors with machine-readable codes in ``extensions.code``.

Every error leaves with a code. Errors raised on purpose (below) carry theirs. A service's
``InvalidInputError`` becomes BAD_USER_INPUT with its message. Anything else raised while
resolving is a bug: the client sees only "Internal server error." (no stack trace, no SQL) and
the log gets the traceback. Parse and validation errors (including the request limits) get
GRAPHQL_VALIDATION_FAILED.
"""

from __future__ import annotations

import logging

from graphql import GraphQLError

from graph.services.errors import InvalidInputError

log = logging.getLogger(__name__)

UNAUTHENTICATED = "UNAUTHENTICATED"
BAD_USER_INPUT = "BAD_USER_INPUT"
INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"
GRAPHQL_VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"


def unauthenticated() -> GraphQLError:
    return GraphQLError(
        "sign in first: send Authorization: Bearer <token>",
        extensions={"code": UNAUTHENTICATED},
    )


def bad_user_input(message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": BAD_USER_INPUT})


def coded(error: GraphQLError) -> GraphQLError:
    """The error as a client may see it, always with ``extensions.code``."""
    original = error.original_error
    if original is None or isinstance(original, GraphQLError):
        if error.extensions and "code" in error.extensions:
            return error
        return _with_code(error, error.message, GRAPHQL_VALIDATION_FAILED)
    if isinstance(original, InvalidInputError):
        return _with_code(error, str(original), BAD_USER_INPUT)
    log.error("unexpected error resolving %s", error.path, exc_info=original)
    return _with_code(error, "Internal server error.", INTERNAL_SERVER_ERROR)


def _with_code(error: GraphQLError, message: str, code: str) -> GraphQLError:
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions={**(error.extensions or {}), "code": code},
    )
