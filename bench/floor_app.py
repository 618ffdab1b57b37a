"""The framework's floor: the same frameworks as movierec, doing nothing but answering.

``api_load.py --floor`` serves ``app`` with uvicorn, the same worker count and the same server
settings as ``movierec serve`` (uvloop, httptools, no access log, no proxy headers), in the same
run, so movierec's rates can be quoted as a share of what FastAPI and Strawberry themselves reach
on this machine at that moment. One app, like movierec's, with both paths:

- ``GET /user/{id}/recommendations`` returns the legacy envelope held in memory (movierec's own
  answer for user 1, captured by the bench before the run and passed in
  ``MOVIEREC_FLOOR_LEGACY``, a JSON file), serialised per request like any response;
- ``POST /graphql``: Strawberry, ``viewer { recommendations(first) { id title posterUrl } }``
  resolving 10 in-memory movies, no store, no token (the bench sends movierec's request, its
  ``Authorization`` header included, which this app ignores).

A fair floor has the framework features movierec uses and nothing movierec lacks: Strawberry's
own parse and validation caches (movierec has them, and they spare a repeated query most of its
cost), no middleware of its own.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import strawberry
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from strawberry.extensions import ParserCache, ValidationCache
from strawberry.fastapi import GraphQLRouter

CACHE_SIZE = 256  # graph.schema.QUERY_CACHE_SIZE


@strawberry.type
class Movie:
    id: strawberry.ID
    title: str
    poster_url: str | None


MOVIES = [
    Movie(id=strawberry.ID(str(i)), title=f"Movie {i}", poster_url=f"/poster{i}.jpg")
    for i in range(10)
]


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


def app() -> FastAPI:
    body: Any = json.loads(Path(os.environ["MOVIEREC_FLOOR_LEGACY"]).read_text())
    schema = strawberry.Schema(
        query=Query,
        extensions=[
            lambda: ParserCache(maxsize=CACHE_SIZE),
            lambda: ValidationCache(maxsize=CACHE_SIZE),
        ],
    )
    floor = FastAPI()
    floor.include_router(GraphQLRouter(schema), prefix="/graphql")

    @floor.get("/user/{user_id}/recommendations")
    async def recommendations(user_id: int) -> JSONResponse:
        return JSONResponse(body)

    return floor
