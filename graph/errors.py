"""GraphQL errors with machine-readable codes in ``extensions.code``."""

from __future__ import annotations

from graphql import GraphQLError

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
