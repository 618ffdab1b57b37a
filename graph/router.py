"""GraphQL at /graphql: Strawberry's ASGI view, coded GraphQL errors, JSON errors for bad requests.

The view is Strawberry's plain ASGI app (``strawberry.asgi.GraphQL``) on a Starlette route, not
its FastAPI router: that router solved FastAPI's dependencies for its context getter on every
request (about 7 % of a warm query's samples, py-spy of the app in process); here the view builds
the typed context itself (``get_context``), from the same function.

Coding errors here, where every result passes on its way out (parse failures included, which
schema extensions do not see), guarantees each error a ``extensions.code``: see ``graph.errors``.

Out of the box a body of ``null`` or ``[1, 2]`` raises inside Strawberry (a 500), and other
request errors come back as plain text. Here each is a 4xx JSON body in GraphQL's error shape,
``{"errors": [{"message", "extensions": {"code": "BAD_REQUEST"}}]}``, so clients parse one format.

Each request has a deadline (``GraphQLLimits.deadline_seconds``, one for a whole batch): past it
the request is cancelled and answers 503 with ``extensions.code`` TIMEOUT, so no query holds the
worker. Blocking calls it was waiting for finish in their thread, their results dropped.

The body is read on the worker's main loop; everything after it (the token's check, decoding,
parse, validation, execution, encoding the answer) runs on GraphQL's own loop
(``graph.side_loop``), so a heavy query never delays ``/healthz`` or the legacy routes by more
than a switch of threads. The deadline is kept on the main loop: it answers on time even while
GraphQL's thread is busy. Except for a cheap request seen before (``CheapBodies``): the same
POST body as an earlier request that cost at most ``INLINE_COST`` (``graph.cost``), with at
most ``INLINE_LOADS`` loaded fields, runs on the main loop, like a legacy request of the same
size: it then skips the hand-over there and back (two wake-ups across threads, and the two
threads taking the interpreter in turns; in process about 0.4 of 4.3 ms of CPU, in noisy
rounds). The heavy queries the side loop is for cost far more (``graph.cost``: nine aliased
pages of 100 movies with their stats cost 9,018).

GET /graphql from a browser is GraphiQL, served without a CDN: see ``graph.ide``.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable
from typing import Any, overload

from cross_web import HTTPException
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, WebSocketRoute
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse
from strawberry.schema import BaseSchema
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET

from graph import metrics
from graph.context import Context
from graph.cost import RequestBudget
from graph.errors import ErrorCode, coded
from graph.ide import LocalGraphiQL, asset_route
from graph.json_body import NotUnicodeError, loads
from graph.metrics import LabelledRoute
from graph.side_loop import SideLoop

ENDPOINT = "/graphql"
# Builds a request's context from its connection (the token, the client's address).
ContextGetter = Callable[[HTTPConnection], Awaitable[Context]]
# A request runs on the main loop when a request with the same body cost at most this much:
# one call of a costly list field (a viewer's recommendations: 200) and a page of ten objects
# with a few fields each (``viewer { recommendations(first: 10) { id title posterUrl } }``
# costs 232), a few milliseconds of CPU at most, like a legacy request.
INLINE_COST = 250
# Fields through DataLoaders weigh 7-17 units each (graph/cost.py, LOADED_FIELDS).
INLINE_LOADS = 10
# Bodies longer than this always go to GraphQL's loop: their parse, should the document cache
# have let them go, stays off the main loop (graph/validation.py parses up to 1,000 characters
# on a loop).
INLINE_BODY_BYTES = 1_000
# Cheap bodies remembered per worker (clients send a handful of fixed queries).
CHEAP_BODIES = 1024
# Where ``get_context`` leaves the request's budget for ``run`` to read once it is spent.
_BUDGET = "movierec.budget"


def _cheap(budget: RequestBudget) -> bool:
    """Whether a request that spent ``budget`` may run on the main loop when sent again.

    One refused before it ran (bad syntax, invalid, over budget) spent nothing and is not
    remembered: its work before the refusal (parse, validation, the costing walk) is not known
    to be small.
    """
    return 0 < budget.spent <= INLINE_COST and budget.loaded <= INLINE_LOADS


class CheapBodies:
    """Digests of POST bodies whose request cost at most ``INLINE_COST``; used on the main loop.

    Digests, not bodies: a body may hold a password (``login``), which no cache should keep.
    A body's cost is the same at every request (the same documents, variables and operations),
    whoever sends it; the token is a header.
    """

    def __init__(self, size: int = CHEAP_BODIES) -> None:
        self._size = size
        self._digests: set[bytes] = set()

    @staticmethod
    def digest(body: bytes) -> bytes | None:
        """The key of a body short enough to run on the main loop; None for a longer one."""
        if len(body) > INLINE_BODY_BYTES:
            return None
        return hashlib.blake2b(body, digest_size=16).digest()

    def __contains__(self, digest: bytes) -> bool:
        return digest in self._digests

    def add(self, digest: bytes) -> None:
        if len(self._digests) >= self._size:
            self._digests.clear()  # a stream of new bodies: each goes to GraphQL's loop again
        self._digests.add(digest)


def request_error(
    status: int, message: str, code: ErrorCode = ErrorCode.BAD_REQUEST
) -> JSONResponse:
    """A request refused as a whole, in GraphQL's error shape (the body limit answers so too)."""
    return JSONResponse(
        {"errors": [{"message": message, "extensions": {"code": code.value}}]}, status_code=status
    )


def graphql_routes(
    schema: BaseSchema, context: ContextGetter, *, deadline_seconds: float, executor: SideLoop
) -> list[BaseRoute]:
    """The routes of ``ENDPOINT``: queries (GET, POST) and GraphiQL, its files, WebSockets."""
    view = GraphQLView(schema, context, deadline_seconds=deadline_seconds, executor=executor)
    return [
        # Labelled: the metrics name requests by the route's template.
        LabelledRoute(ENDPOINT, view, methods=["GET", "POST"]),
        WebSocketRoute(ENDPOINT, view),
        asset_route(ENDPOINT),
    ]


class GraphQLView(LocalGraphiQL, GraphQL[Context, None]):
    def __init__(
        self,
        schema: BaseSchema,
        context: ContextGetter,
        *,
        deadline_seconds: float,
        executor: SideLoop,
    ) -> None:
        super().__init__(schema, graphql_ide="graphiql")
        self.context = context
        self.deadline_seconds = deadline_seconds
        self.executor = executor
        self.cheap = CheapBodies()

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        """The request's typed context, carrying the request and the response (headers a
        resolver may set) as Strawberry's FastAPI router set them."""
        context = await self.context(request)
        context.request = request
        context.response = response  # type: ignore[assignment]
        request.scope[_BUDGET] = context.budget
        return context

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

    # The same overloads as Strawberry's: its WebSocket requests go through ``run`` too, and a
    # connection there is neither answered with a JSON body nor held to a request's deadline.
    @overload
    async def run(
        self, request: Request, context: Context = UNSET, root_value: None = UNSET
    ) -> Response: ...

    @overload
    async def run(
        self, request: WebSocket, context: Context = UNSET, root_value: None = UNSET
    ) -> WebSocket: ...

    async def run(
        self, request: Request | WebSocket, context: Context = UNSET, root_value: None = UNSET
    ) -> Response | WebSocket:
        if isinstance(request, WebSocket):
            return await super().run(request, context=context, root_value=root_value)
        deadline = asyncio.timeout(self.deadline_seconds)
        try:
            async with deadline:
                # Read here: the body arrives through the main loop's connection; kept on the
                # request, Strawberry's read on the other loop finds it there.
                body = await request.body()
                digest = CheapBodies.digest(body) if request.method == "POST" else None
                handled = super().run(request, context=context, root_value=root_value)
                if digest is not None and digest in self.cheap:
                    return await handled
                answer = await self.executor.run(handled)
                budget = request.scope.get(_BUDGET)
                if digest is not None and isinstance(budget, RequestBudget) and _cheap(budget):
                    self.cheap.add(digest)
                return answer
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
