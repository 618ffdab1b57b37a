"""Strawberry's FastAPI router: coded GraphQL errors, JSON errors for malformed requests.

Coding errors here, where every result passes on its way out (parse failures included, which
schema extensions do not see), guarantees each error a ``extensions.code``: see ``graph.errors``.

Out of the box a body of ``null`` or ``[1, 2]`` raises inside Strawberry (a 500), and other
request errors come back as plain text. Here each is a 4xx JSON body in GraphQL's error shape,
``{"errors": [{"message", "extensions": {"code": "BAD_REQUEST"}}]}``, so clients parse one format.

GET /graphql from a browser is GraphiQL, served without a CDN: see ``graph.ide``.
"""

from __future__ import annotations

from typing import Any

from cross_web import HTTPException
from fastapi import Request, Response
from fastapi.responses import JSONResponse
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET

from graph import metrics
from graph.errors import ErrorCode, coded
from graph.ide import LocalGraphiQLRouter
from graph.json_body import loads

MAX_BODY_BYTES = 1_000_000


class JSONErrorsRouter(LocalGraphiQLRouter):
    def parse_json(self, data: str | bytes) -> Any:
        if len(data) > MAX_BODY_BYTES:
            raise HTTPException(413, f"request body over {MAX_BODY_BYTES:,} bytes")
        try:
            parsed = loads(data)
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

    async def run(  # type: ignore[override]
        self, request: Request, context: Any = UNSET, root_value: Any = UNSET
    ) -> Response:
        try:
            return await super().run(request, context=context, root_value=root_value)
        except HTTPException as exc:
            metrics.graphql_error(ErrorCode.BAD_REQUEST.value)
            return JSONResponse(
                {
                    "errors": [
                        {"message": exc.reason, "extensions": {"code": ErrorCode.BAD_REQUEST.value}}
                    ]
                },
                status_code=exc.status_code,
            )
