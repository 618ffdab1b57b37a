"""Query fields of the movies domain: look-up and search, then the home screen's lists."""

from __future__ import annotations

from enum import Enum

import strawberry

from graph.context import Info
from graph.fields import field
from graph.movies.connection import MovieConnection, MovieOrder, movie_connection
from graph.movies.movie import Movie
from graph.pagination import decode_cursor
from graph.services.catalog import (
    FEATURED_PRIOR_RATINGS,
    NEWLY_ADDED_MIN_RATERS,
    RAIL_DEPTH,
    TRENDING_MIN_WINDOW_RATERS,
    Rail,
)


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
        return movie_connection([Movie.from_row(row) for row in rows], offset, total)


_FEATURED = f"Best Bayesian-averaged rating (prior: {FEATURED_PRIOR_RATINGS} ratings at the mean)."
_TRENDING = (
    "Most people rating it in the recent window: by default the 90 days up to the newest "
    f"rating, widened until at least {TRENDING_MIN_WINDOW_RATERS} people rated in it, so a few "
    "accounts cannot take it over."
)
_NEWLY_ADDED = (
    "Most recently first rated (when a movie came into use), among movies at least "
    f"{NEWLY_ADDED_MIN_RATERS} people rated."
)


@strawberry.enum(description="The home screen's rails, for the paged rail field.")
class RailName(Enum):
    FEATURED = strawberry.enum_value(Rail.FEATURED.value, description=_FEATURED)
    TRENDING = strawberry.enum_value(Rail.TRENDING.value, description=_TRENDING)
    NEWLY_ADDED = strawberry.enum_value(Rail.NEWLY_ADDED.value, description=_NEWLY_ADDED)


@strawberry.type
class BrowseQueries:
    """What the home screen lists: the genres and the three rails, as a row and page by page."""

    @strawberry.field
    async def genres(self, info: Info) -> list[str]:
        return await info.context.run(info.context.services.catalog.genres)

    @field(description=_FEATURED)
    async def featured(self, info: Info, first: int = 20) -> list[Movie]:
        return _movies(await _rail(info, Rail.FEATURED, first))

    @field(description=_TRENDING)
    async def trending(self, info: Info, first: int = 20) -> list[Movie]:
        return _movies(await _rail(info, Rail.TRENDING, first))

    @field(description=_NEWLY_ADDED)
    async def newly_added(self, info: Info, first: int = 20) -> list[Movie]:
        return _movies(await _rail(info, Rail.NEWLY_ADDED, first))

    @field(
        description=(
            "A rail page by page, in the order featured, trending and newlyAdded list it (a "
            f"'See all'); each rail is at most {RAIL_DEPTH} movies long."
        )
    )
    async def rail(
        self, info: Info, name: RailName, first: int = 20, after: str | None = None
    ) -> MovieConnection:
        return await _rail(info, Rail(name.value), first, after)


async def _rail(info: Info, rail: Rail, first: int, after: str | None = None) -> MovieConnection:
    offset = decode_cursor(after)
    catalog = info.context.services.catalog
    rows, total = await info.context.run(catalog.rail, rail, first, offset)
    return movie_connection([Movie.from_row(row) for row in rows], offset, total)


def _movies(connection: MovieConnection) -> list[Movie]:
    return [edge.node for edge in connection.edges]
