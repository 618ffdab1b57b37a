"""A page of movies with cursors: search, the rails, recommendations, the watchlist."""

from __future__ import annotations

from enum import Enum

import strawberry

from graph.movies.movie import Movie
from graph.pagination import PageInfo, encode_cursor, page_info
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


def movie_connection(movies: list[Movie], offset: int, total: int) -> MovieConnection:
    """The page of ``movies`` that starts at ``offset`` of ``total``, one cursor per movie."""
    edges = [
        MovieEdge(cursor=encode_cursor(offset + index), node=movie)
        for index, movie in enumerate(movies)
    ]
    return MovieConnection(
        edges=edges, page_info=page_info(offset, len(edges), total), total_count=total
    )
