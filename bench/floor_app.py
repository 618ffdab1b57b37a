"""The framework's floor: the same frameworks as movierec, doing nothing but answering.

``api_load.py --floor`` serves these with uvicorn and the same worker count as movierec, in
the same run, so movierec's rates can be quoted as a share of what FastAPI and Strawberry
themselves reach on this machine at that moment:

- ``legacy_app``: FastAPI, ``GET /user/{id}/recommendations`` returns the legacy envelope held
  in memory (movierec's own answer for user 1, captured by the bench before the run and passed
  in ``MOVIEREC_FLOOR_LEGACY``, a JSON file), serialised per request like any response;
- ``graphql_app``: Strawberry on FastAPI, ``viewer { recommendations(first) { id title
  posterUrl } }`` resolving 10 in-memory movies, no store, no token.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import strawberry
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from strawberry.fastapi import GraphQLRouter


def legacy_app() -> FastAPI:
    body: Any = json.loads(Path(os.environ["MOVIEREC_FLOOR_LEGACY"]).read_text())
    app = FastAPI()

    @app.get("/user/{user_id}/recommendations")
    async def recommendations(user_id: int) -> JSONResponse:
        return JSONResponse(body)

    return app


@strawberry.type
class Movie:
    id: strawberry.ID
    title: str
    poster_url: str | None


MOVIES = [Movie(id=strawberry.ID(str(i)), title=f"Movie {i}", poster_url=None) for i in range(10)]


@strawberry.type
class Viewer:
    @strawberry.field
    def recommendations(self, first: int = 10) -> list[Movie]:
        return MOVIES[:first]


@strawberry.type
class Query:
    @strawberry.field
    def viewer(self) -> Viewer:
        return Viewer()


def graphql_app() -> FastAPI:
    app = FastAPI()
    app.include_router(GraphQLRouter(strawberry.Schema(query=Query)), prefix="/graphql")
    return app
