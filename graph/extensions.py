"""Every GraphQL error leaves with ``extensions.code``; unexpected ones are masked and logged.

Errors raised on purpose (``graph.errors``) already carry a code. A service's
``InvalidInputError`` becomes BAD_USER_INPUT with its message. Anything else raised while
resolving is a bug: the client sees only "Internal server error." (no stack trace, no SQL) and
the log gets the traceback. Parse and validation errors (no path) get GRAPHQL_VALIDATION_FAILED.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from graphql import ExecutionResult as CoreExecutionResult
from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.types.execution import ExecutionResult

from graph.errors import BAD_USER_INPUT, GRAPHQL_VALIDATION_FAILED, INTERNAL_SERVER_ERROR
from graph.services.errors import InvalidInputError

log = logging.getLogger(__name__)


class ErrorCodes(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if isinstance(result, (CoreExecutionResult, ExecutionResult)) and result.errors:
            result.errors = [coded(error) for error in result.errors]


def coded(error: GraphQLError) -> GraphQLError:
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
