"""Query fields of the recommendations domain, and the helper ``User.recommendations`` shares."""

from __future__ import annotations

import strawberry

from graph.context import Info
from graph.fields import field
from graph.movies.movie import Movie, movies_by_ids
from graph.permissions import IsAuthenticated, requires


async def recommended_movies(
    info: Info, user_id: int, first: int, genre: str | None
) -> list[Movie]:
    """The user's recommendations, for ``recommendations`` and ``viewer { recommendations }``."""
    service = info.context.services.recommendations
    ids = await info.context.run(service.for_user, user_id, first, genre)
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
