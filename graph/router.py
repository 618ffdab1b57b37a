"""Strawberry's FastAPI router, made to refuse malformed requests with a JSON error.

Out of the box a body of ``null`` or ``[1, 2]`` raises inside Strawberry (a 500), and other
request errors come back as plain text. Here each is a 4xx JSON body in GraphQL's error shape,
``{"errors": [{"message", "extensions": {"code": "BAD_REQUEST"}}]}``, so clients parse one format.
"""

from __future__ import annotations

from typing import Any

from cross_web import HTTPException
from fastapi import Request, Response
from fastapi.responses import JSONResponse
from strawberry.fastapi import GraphQLRouter
from strawberry.types.unset import UNSET

MAX_BODY_BYTES = 1_000_000


class JSONErrorsRouter(GraphQLRouter):
    def parse_json(self, data: str | bytes) -> Any:
        if len(data) > MAX_BODY_BYTES:
            raise HTTPException(413, f"request body over {MAX_BODY_BYTES:,} bytes")
        try:
            parsed = self.decode_json(data)
        except ValueError as exc:  # JSONDecodeError and invalid UTF-8 alike
            raise HTTPException(400, "Unable to parse request body as JSON") from exc
        operations = parsed if isinstance(parsed, list) else [parsed]
        if not operations or not all(isinstance(item, dict) for item in operations):
            raise HTTPException(
                400, "The request body must be a JSON object, or a non-empty list of them"
            )
        return parsed

    async def run(  # type: ignore[override]
        self, request: Request, context: Any = UNSET, root_value: Any = UNSET
    ) -> Response:
        try:
            return await super().run(request, context=context, root_value=root_value)
        except HTTPException as exc:
            return JSONResponse(
                {"errors": [{"message": exc.reason, "extensions": {"code": "BAD_REQUEST"}}]},
                status_code=exc.status_code,
            )
