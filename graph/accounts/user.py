"""An account, as its owner sees it.

Only ``id`` and ``username`` are open. Every field reading the account's own data carries the
``IsOwnAccount`` permission, so a ``User`` built for anyone but the viewer (or the account a
login in this same request signed in to) answers FORBIDDEN there instead of someone's ratings.
"""

from __future__ import annotations

import strawberry

from data.users import UserRow
from graph.context import Info
from graph.fields import field
from graph.movies.connection import MovieConnection
from graph.movies.movie import Movie
from graph.permissions import IsOwnAccount, requires
from graph.ratings.rating import RatingConnection, RatingOrder, rating_connection
from graph.recommendations.queries import recommended_movies
from graph.watchlist.connection import watchlist_connection


@strawberry.type
class User:
    id: int
    username: str

    @classmethod
    def from_row(cls, row: UserRow) -> User:
        return cls(id=row.id, username=row.username)

    @field(extensions=requires(IsOwnAccount()))
    async def rating_count(self, info: Info) -> int:
        return await info.context.loaders.rating_count.load(self.id)

    @field(extensions=requires(IsOwnAccount()))
    async def ratings(
        self,
        info: Info,
        first: int = 20,
        after: str | None = None,
        order_by: RatingOrder = RatingOrder.RECENT,
    ) -> RatingConnection:
        return await rating_connection(info, self.id, order=order_by, first=first, after=after)

    @field(extensions=requires(IsOwnAccount()))
    async def recommendations(
        self, info: Info, first: int = 10, genre: str | None = None
    ) -> list[Movie]:
        return await recommended_movies(info, self.id, first, genre)

    @field(
        description="Movies saved to watch later, newest first.",
        extensions=requires(IsOwnAccount()),
    )
    async def watchlist(
        self, info: Info, first: int = 20, after: str | None = None
    ) -> MovieConnection:
        return await watchlist_connection(info, self.id, first=first, after=after)
