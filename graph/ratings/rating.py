"""One of the viewer's ratings, and pages of them."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import Enum

import strawberry

from data.ratings import RatingOrder as StoreRatingOrder
from data.ratings import RatingRow
from graph.context import Info
from graph.movies.movie import Movie
from graph.pagination import PageInfo, decode_cursor, encode_cursor, page_info


@strawberry.enum
class RatingOrder(Enum):
    RECENT = StoreRatingOrder.RECENT.value
    OLDEST = StoreRatingOrder.OLDEST.value
    HIGHEST = StoreRatingOrder.HIGHEST.value
    LOWEST = StoreRatingOrder.LOWEST.value

    @property
    def store_order(self) -> StoreRatingOrder:
        return StoreRatingOrder(self.value)


@strawberry.type(description="A half-star rating from 0.5 to 5.0 with the time it was given.")
class Rating:
    movie_id: strawberry.Private[int]
    rating: float
    rated_at: datetime

    @classmethod
    def from_row(cls, row: RatingRow) -> Rating:
        return cls(
            movie_id=row.movie_id,
            rating=row.rating,
            rated_at=datetime.fromtimestamp(row.rated_at, UTC),
        )

    @strawberry.field
    async def movie(self, info: Info) -> Movie:
        row = await info.context.loaders.movie.load(self.movie_id)
        if row is None:  # the foreign key makes this impossible short of a corrupt store
            raise LookupError(f"rating of unknown movie {self.movie_id}")
        return Movie.from_row(row)


@strawberry.type
class RatingEdge:
    cursor: str
    node: Rating


@strawberry.type
class RatingConnection:
    edges: list[RatingEdge]
    page_info: PageInfo
    total_count: int


async def rating_connection(
    info: Info, user_id: int, *, order: RatingOrder, first: int, after: str | None
) -> RatingConnection:
    """A page of the user's ratings; the caller has checked the user may be read."""
    offset = decode_cursor(after)
    ratings = info.context.services.ratings
    page = await info.context.run(
        lambda: ratings.page(user_id, order=order.store_order, first=first, offset=offset)
    )
    edges = [
        RatingEdge(cursor=encode_cursor(offset + index), node=Rating.from_row(row))
        for index, row in enumerate(page.rows)
    ]
    return RatingConnection(
        edges=edges, page_info=page_info(offset, len(edges), page.total), total_count=page.total
    )
