"""An account. Only ever built for the signed-in viewer, so its fields need no owner check."""

from __future__ import annotations

import strawberry

from data.users import UserRow
from graph.context import Context
from graph.types.movie import Movie, recommended_movies
from graph.types.page_info import decode_cursor, encode_cursor, page_info
from graph.types.rating import Rating, RatingConnection, RatingEdge, RatingOrder

Info = strawberry.Info[Context, None]


@strawberry.type
class User:
    id: int
    username: str

    @classmethod
    def from_row(cls, row: UserRow) -> User:
        return cls(id=row.id, username=row.username)

    @strawberry.field
    async def rating_count(self, info: Info) -> int:
        return await info.context.loaders.rating_count.load(self.id)

    @strawberry.field
    async def ratings(
        self,
        info: Info,
        first: int = 20,
        after: str | None = None,
        order_by: RatingOrder = RatingOrder.RECENT,
    ) -> RatingConnection:
        offset = decode_cursor(after)
        page = await info.context.run(
            lambda: info.context.services.ratings.page(
                self.id, order=order_by.store_order, first=first, offset=offset
            )
        )
        edges = [
            RatingEdge(cursor=encode_cursor(offset + index), node=Rating.from_row(row))
            for index, row in enumerate(page.rows)
        ]
        return RatingConnection(
            edges=edges,
            page_info=page_info(offset, len(edges), page.total),
            total_count=page.total,
        )

    @strawberry.field
    async def recommendations(
        self, info: Info, first: int = 10, genre: str | None = None
    ) -> list[Movie]:
        return await recommended_movies(info, self.id, first, genre)
