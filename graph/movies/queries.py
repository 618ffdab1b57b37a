"""Query fields of the movies domain: look-up and search, then the home screen's lists."""

from __future__ import annotations

import strawberry

from graph.context import Info
from graph.fields import field
from graph.movies.connection import MovieConnection, MovieEdge, MovieOrder
from graph.movies.movie import Movie
from graph.pagination import decode_cursor, encode_cursor, page_info
from graph.services.catalog import Rail


@strawberry.type
class MovieQueries:
    @strawberry.field
    async def movie(self, info: Info, id: int) -> Movie | None:
        row = await info.context.loaders.movie.load(id)
        return Movie.from_row(row) if row else None

    @field(description="Search by title (case-insensitive substring) and genre.")
    async def movies(
        self,
        info: Info,
        search: str | None = None,
        genre: str | None = None,
        first: int = 20,
        after: str | None = None,
        order_by: MovieOrder = MovieOrder.POPULARITY,
    ) -> MovieConnection:
        offset = decode_cursor(after)
        catalog = info.context.services.catalog
        rows, total = await info.context.run(
            lambda: catalog.search(
                search=search, genre=genre, order=order_by.store_order, first=first, offset=offset
            )
        )
        edges = [
            MovieEdge(cursor=encode_cursor(offset + index), node=Movie.from_row(row))
            for index, row in enumerate(rows)
        ]
        return MovieConnection(
            edges=edges, page_info=page_info(offset, len(edges), total), total_count=total
        )


@strawberry.type
class BrowseQueries:
    """What the home screen lists: the genres and the three rails."""

    @strawberry.field
    async def genres(self, info: Info) -> list[str]:
        return await info.context.run(info.context.services.catalog.genres)

    @field(description="Best Bayesian-averaged rating (prior: 50 ratings at the mean).")
    async def featured(self, info: Info, first: int = 20) -> list[Movie]:
        return await _rail(info, Rail.FEATURED, first)

    @field(description="Most rated in the 90 days before the newest rating.")
    async def trending(self, info: Info, first: int = 20) -> list[Movie]:
        return await _rail(info, Rail.TRENDING, first)

    @field(description="Most recently first rated: when a movie came into use.")
    async def newly_added(self, info: Info, first: int = 20) -> list[Movie]:
        return await _rail(info, Rail.NEWLY_ADDED, first)


async def _rail(info: Info, rail: Rail, first: int) -> list[Movie]:
    rows = await info.context.run(info.context.services.catalog.rail, rail, first)
    return [Movie.from_row(row) for row in rows]
