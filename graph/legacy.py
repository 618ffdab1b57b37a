"""The original iOS app's REST endpoints, answering byte for byte as its Flask backend did.

Flask's ``jsonify`` sorted keys and, in production, printed compact JSON; the app decodes
``status`` and ``userId`` as Int, ``movies`` as an array of ``{movieId Int, title String,
genres String, other fields String?}``. Movie objects never change between ETL runs, so each is
serialised once per worker and responses are assembled from those bytes. The endpoints are open
(the app sends no token), exactly like the original; ``AppConfig.legacy_api`` switches them off.
Where the original crashed with a 500 HTML page (a body that is not a JSON object), these answer
a 4xx JSON error in the same envelope.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from data.domain import NO_GENRES
from data.movies import MovieRow
from graph.context import client_address
from graph.json_body import NotUnicodeError, loads
from graph.metrics import LabelledRoute
from graph.services.accounts import Authenticated
from graph.services.bundle import Services
from graph.services.outcomes import Refusal
from graph.threads import BlockingCalls

RECOMMENDATIONS = 10


def dumps(value: Any) -> bytes:
    """Flask's jsonify in production: sorted keys, no spaces, non-ASCII escaped."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False).encode()


def legacy_movie(row: MovieRow) -> dict[str, object]:
    return {
        "backdrop_path": row.backdrop_path,
        "genres": "|".join(row.genres) if row.genres else NO_GENRES,
        "movieId": row.id,
        "original_title": row.original_title,
        "overview": row.overview,
        "poster_path": row.poster_path,
        "title": row.movielens_title,
    }


class LegacyJSON:
    """Envelopes in the original's key order: message, movies, status, userId."""

    def __init__(self) -> None:
        self._movies: dict[int, bytes] = {}

    def movies(self, user_id: int, rows: list[MovieRow]) -> Response:
        parts = []
        for row in rows:
            encoded = self._movies.get(row.id)
            if encoded is None:
                encoded = self._movies[row.id] = dumps(legacy_movie(row))
            parts.append(encoded)
        body = b'{"message":"Success","movies":[%s],"status":200,"userId":%d}' % (
            b",".join(parts),
            user_id,
        )
        return Response(body, media_type="application/json")


def error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    body = dumps({"message": message, "movies": [], "status": status})
    return Response(body, status_code=status, media_type="application/json", headers=headers)


def legacy_routes(services: Services, threads: BlockingCalls) -> list[LabelledRoute]:
    """Plain Starlette routes: FastAPI's parameter machinery would cost more than the work.

    Reads run in ``threads`` (the app's blocking-call pool), one trip per request, except where
    ``data.db.LoopReads`` can make them on the loop: a recommendation whose ranking and movies
    are cached, and on PostgreSQL a user's rated movies when their movies are cached.
    """
    encoder = LegacyJSON()

    async def login(request: Request) -> Response:
        body = await request.body()
        try:
            payload = loads(body)
        except NotUnicodeError as exc:
            return error(400, str(exc))
        except ValueError:
            return error(400, 'Request body must be JSON: {"username": ..., "password": ...}')
        if not isinstance(payload, dict):
            return error(400, "Request body must be a JSON object with username and password")
        username, password = payload.get("username"), payload.get("password")
        if not isinstance(username, str) or not isinstance(password, str):
            return error(400, "username and password must be strings")
        outcome = await threads.run_password_work(
            services.accounts.login, username, password, client_address(request)
        )
        if isinstance(outcome, Authenticated):
            return Response(
                dumps(
                    {"message": "Success", "movies": [], "status": 200, "userId": outcome.user.id}
                ),
                media_type="application/json",
            )
        if outcome.reason is Refusal.TOO_MANY_ATTEMPTS:
            return error(
                429, outcome.message, headers={"Retry-After": str(outcome.retry_after_seconds)}
            )
        return error(400, "Username or Password Not Found")

    def answer(user_id: int, movie_ids: list[int]) -> Response:
        return encoder.movies(user_id, services.catalog.ordered(movie_ids))

    def answer_cached(user_id: int, movie_ids: list[int] | None) -> Response | None:
        """``answer`` with no read, on the loop: None unless every movie's row is cached (or
        with no ids, read nowhere yet)."""
        if movie_ids is None or (rows := services.catalog.cached(movie_ids)) is None:
            return None
        return encoder.movies(user_id, [rows[movie_id] for movie_id in movie_ids])

    async def rated(request: Request) -> Response:
        """The movies the path's user rated, in the order they rated them: read on the loop
        where the store allows (``Ratings.rated_movie_ids_on_loop``) and answered there when
        its movies are cached; anything else, in a thread."""
        parsed = _user_id(request.path_params["user_id"])
        if isinstance(parsed, Response):
            return parsed
        service = services.ratings
        ids = await service.rated_movie_ids_on_loop(parsed)
        if (cached := answer_cached(parsed, ids)) is not None:
            return cached
        return await threads.run(
            lambda: answer(parsed, service.rated_movie_ids(parsed) if ids is None else ids)
        )

    async def recommended(request: Request) -> Response:
        """The path's user's top ten. A cached ranking whose movies are cached too is answered
        on the loop, its check a read there (``Recommendations.check_on_loop``); anything
        else, in a thread."""
        parsed = _user_id(request.path_params["user_id"])
        if isinstance(parsed, Response):
            return parsed
        service = services.recommendations
        checked = await service.check_on_loop(parsed)
        head = None if checked is None else checked.head(RECOMMENDATIONS)
        if (cached := answer_cached(parsed, head)) is not None:
            return cached
        return await threads.run(
            lambda: answer(parsed, service.for_user(parsed, RECOMMENDATIONS, checked=checked))
        )

    return [
        LabelledRoute("/login", login, methods=["POST"]),
        LabelledRoute("/user/{user_id}/movies", rated, methods=["GET"]),
        LabelledRoute("/user/{user_id}/recommendations", recommended, methods=["GET"]),
    ]


def _user_id(text: str) -> int | Response:
    """The path's user id; Flask's ``<id>`` route took any text, then crashed on non-numbers."""
    if not text.isascii() or not text.isdigit() or len(text) > 18:
        return error(404, f"User id must be a positive integer, got {text[:40]!r}")
    return int(text)
