"""Strawberry's FastAPI router: coded GraphQL errors, JSON errors for malformed requests.

Coding errors here, where every result passes on its way out (parse failures included, which
schema extensions do not see), guarantees each error a ``extensions.code``: see ``graph.errors``.

Out of the box a body of ``null`` or ``[1, 2]`` raises inside Strawberry (a 500), and other
request errors come back as plain text. Here each is a 4xx JSON body in GraphQL's error shape,
``{"errors": [{"message", "extensions": {"code": "BAD_REQUEST"}}]}``, so clients parse one format.

Each request has a deadline (``GraphQLLimits.deadline_seconds``, one for a whole batch): past it
the request is cancelled and answers 503 with ``extensions.code`` TIMEOUT, so no query holds the
worker. Blocking calls it was waiting for finish in their thread, their results dropped.

The body is read on the worker's main loop; everything after it (decoding, parse, validation,
execution, encoding the answer) runs on GraphQL's own loop (``graph.side_loop``), so a heavy
query never delays ``/healthz`` or the legacy routes by more than a switch of threads. The
deadline is kept on the main loop: it answers on time even while GraphQL's thread is busy.

GET /graphql from a browser is GraphiQL, served without a CDN: see ``graph.ide``.
"""

from __future__ import annotations

import asyncio
from contextvars import ContextVar
from typing import Any, overload

from cross_web import HTTPException
from fastapi import Request, Response, WebSocket
from fastapi.responses import JSONResponse
from strawberry.fastapi.context import CustomContext
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET

from graph import metrics
from graph.errors import ErrorCode, coded
from graph.ide import LocalGraphiQLRouter
from graph.json_body import NotUnicodeError, loads
from graph.side_loop import SideLoop

# The response object FastAPI made for this request (headers a resolver may set), carried to
# GraphQL's loop with the request's context: Strawberry keeps it in an attribute of the router,
# which the next request on the main loop overwrites while this one runs elsewhere.
_SUB_RESPONSE: ContextVar[Response] = ContextVar("sub_response")


def request_error(
    status: int, message: str, code: ErrorCode = ErrorCode.BAD_REQUEST
) -> JSONResponse:
    """A request refused as a whole, in GraphQL's error shape (the body limit answers so too)."""
    return JSONResponse(
        {"errors": [{"message": message, "extensions": {"code": code.value}}]}, status_code=status
    )


class JSONErrorsRouter(LocalGraphiQLRouter):
    # Strawberry's route sets it per request (not declared by Strawberry).
    temporal_response: Response

    def __init__(
        self, *args: Any, deadline_seconds: float, executor: SideLoop, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.deadline_seconds = deadline_seconds
        self.executor = executor

    async def get_sub_response(self, request: Request) -> Response:
        return _SUB_RESPONSE.get()

    def parse_json(self, data: str | bytes) -> Any:
        try:
            parsed = loads(data)
        except NotUnicodeError as exc:
            raise HTTPException(400, str(exc)) from exc
        except ValueError as exc:  # bad syntax, invalid UTF-8, nesting too deep alike
            raise HTTPException(400, "Unable to parse request body as JSON") from exc
        operations = parsed if isinstance(parsed, list) else [parsed]
        if not operations or not all(isinstance(item, dict) for item in operations):
            raise HTTPException(
                400, "The request body must be a JSON object, or a non-empty list of them"
            )
        return parsed

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        if result.errors:
            result.errors = [coded(error) for error in result.errors]
            for error in result.errors:
                metrics.graphql_error(str((error.extensions or {})["code"]))
        return await super().process_result(request, result)

    # The same overloads as Strawberry's: its WebSocket route calls ``run`` too, and a
    # connection there is neither answered with a JSON body nor held to a request's deadline.
    @overload
    async def run(
        self, request: Request, context: CustomContext = UNSET, root_value: None = UNSET
    ) -> Response: ...

    @overload
    async def run(
        self, request: WebSocket, context: CustomContext = UNSET, root_value: None = UNSET
    ) -> WebSocket: ...

    async def run(
        self, request: Request | WebSocket, context: CustomContext = UNSET, root_value: None = UNSET
    ) -> Response | WebSocket:
        if isinstance(request, WebSocket):
            return await super().run(request, context=context, root_value=root_value)
        # Set by Strawberry's route just before this call, with no await between.
        _SUB_RESPONSE.set(self.temporal_response)
        deadline = asyncio.timeout(self.deadline_seconds)
        try:
            async with deadline:
                # Read here: the body arrives through the main loop's connection; kept on the
                # request, Strawberry's read on the other loop finds it there.
                await request.body()
                return await self.executor.run(
                    super().run(request, context=context, root_value=root_value)
                )
        except HTTPException as exc:
            metrics.graphql_error(ErrorCode.BAD_REQUEST.value)
            return request_error(exc.status_code, exc.reason)
        except TimeoutError:
            if not deadline.expired():
                raise  # some library's own timeout: a bug to log, not the client's deadline
            metrics.graphql_error(ErrorCode.TIMEOUT.value)
            return request_error(
                503,
                f"the request took longer than its {self.deadline_seconds:g} s deadline and was "
                "stopped; ask for less (lower `first`, fewer operations) or retry later",
                ErrorCode.TIMEOUT,
            )
