"""A page of movies from a search, with cursors."""

from __future__ import annotations

from enum import Enum

import strawberry

from graph.movies.movie import Movie
from graph.pagination import PageInfo
from graph.services.catalog import MovieOrder as StoreMovieOrder


@strawberry.enum
class MovieOrder(Enum):
    POPULARITY = StoreMovieOrder.POPULARITY.value
    TITLE = StoreMovieOrder.TITLE.value
    YEAR = StoreMovieOrder.YEAR.value
    RATING = StoreMovieOrder.RATING.value

    @property
    def store_order(self) -> StoreMovieOrder:
        return StoreMovieOrder(self.value)


@strawberry.type
class MovieEdge:
    cursor: str
    node: Movie


@strawberry.type
class MovieConnection:
    edges: list[MovieEdge]
    page_info: PageInfo
    total_count: int
