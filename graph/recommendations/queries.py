"""Query fields of the recommendations domain, and the helper ``User.recommendations`` shares."""

from __future__ import annotations

import strawberry

from graph.context import Info
from graph.fields import field
from graph.movies.connection import MovieConnection, movie_connection
from graph.movies.movie import Movie, movies_by_ids
from graph.pagination import decode_cursor
from graph.permissions import IsAuthenticated, requires
from graph.services.recommendations import RECOMMENDATION_DEPTH


async def recommended_movies(
    info: Info, user_id: int, first: int, genre: str | None
) -> list[Movie]:
    """The user's recommendations, for ``recommendations`` and ``viewer { recommendations }``."""
    service = info.context.services.recommendations
    # A cached ranking is checked against the version read with the viewer's token, else with
    # one read on the request's loop; a miss ranks in a thread.
    known = info.context.known_ranking_version(user_id)
    checked = (
        await service.check_on_loop(user_id, genre)
        if known is None
        else service.check(user_id, known[0], genre)
    )
    ids = None if checked is None else checked.head(first)
    if ids is None:
        ids = await info.context.run(service.for_user, user_id, first, genre, checked)
    return await movies_by_ids(info, ids)


@strawberry.type
class RecommendationQueries:
    @field(
        description="The viewer's recommendations; UNAUTHENTICATED when signed out.",
        extensions=requires(IsAuthenticated()),
    )
    async def recommendations(
        self, info: Info, first: int = 10, genre: str | None = None
    ) -> list[Movie]:
        return await recommended_movies(info, info.context.authenticated_id, first, genre)

    @field(
        description=(
            "The viewer's recommendations page by page (a 'See all'), in the order "
            f"recommendations lists them, at most {RECOMMENDATION_DEPTH} deep; UNAUTHENTICATED "
            "when signed out."
        ),
        extensions=requires(IsAuthenticated()),
    )
    async def paged_recommendations(
        self, info: Info, first: int = 20, after: str | None = None, genre: str | None = None
    ) -> MovieConnection:
        offset = decode_cursor(after)
        service = info.context.services.recommendations
        user_id = info.context.authenticated_id
        ids, total = await info.context.run(
            lambda: service.page(user_id, first=first, offset=offset, genre=genre)
        )
        return movie_connection(await movies_by_ids(info, ids), offset, total)
