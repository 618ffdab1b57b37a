"""Movies as the API serves them: rows cached per process, rating stats, search, rails.

Movie rows and genres change only when the ETL runs again, so each worker keeps every row it has
read (the cache is bounded by the catalogue's size) and a restart picks up a new load. Rating
stats and searches follow every new rating and are read fresh. The rails aggregate every rating,
so they are cached for ``rails_ttl_seconds``: a home-screen chip may lag a minute behind.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from enum import Enum

from sqlalchemy import Engine

from data import movies as queries
from data.movies import MovieOrder, MovieRow, RatingStats
from graph.services.errors import InvalidInputError

MAX_PAGE = 100
MAX_SEARCH_LENGTH = 200


class Rail(Enum):
    FEATURED = "featured"
    TRENDING = "trending"
    NEWLY_ADDED = "newly_added"


class Catalog:
    def __init__(
        self, engine: Engine, *, rails_ttl_seconds: float = 60.0, trending_window_days: int = 90
    ) -> None:
        self._engine = engine
        self._rows: dict[int, MovieRow] = {}
        self._genre_members: dict[str, frozenset[int]] = {}
        self._genres: list[str] | None = None
        self._rails: dict[Rail, tuple[float, list[int]]] = {}
        self._rails_lock = threading.Lock()
        self._rails_ttl = rails_ttl_seconds
        self._trending_window = trending_window_days * 86400

    def movies(self, ids: Iterable[int]) -> dict[int, MovieRow]:
        """Rows for the known ids among ``ids``; one round trip for all cache misses."""
        wanted = list(ids)
        missing = [movie_id for movie_id in wanted if movie_id not in self._rows]
        if missing:
            with self._engine.connect() as conn:
                self._rows.update(queries.movies_by_ids(conn, missing))
        return {movie_id: self._rows[movie_id] for movie_id in wanted if movie_id in self._rows}

    def cached(self, ids: list[int]) -> dict[int, MovieRow] | None:
        """Rows for ``ids`` when every one is already cached, else None (nothing is read)."""
        rows = self._rows
        if all(movie_id in rows for movie_id in ids):
            return {movie_id: rows[movie_id] for movie_id in ids}
        return None

    def ordered(self, ids: Iterable[int]) -> list[MovieRow]:
        """Rows in the order of ``ids``, skipping unknown ids."""
        wanted = list(ids)
        found = self.movies(wanted)
        return [found[movie_id] for movie_id in wanted if movie_id in found]

    def rating_stats(self, ids: Iterable[int]) -> dict[int, RatingStats]:
        with self._engine.connect() as conn:
            return queries.rating_stats(conn, ids)

    def genres(self) -> list[str]:
        if self._genres is None:
            with self._engine.connect() as conn:
                self._genres = queries.genre_names(conn)
        return self._genres

    def genre_members(self, genre: str) -> frozenset[int]:
        """Ids of the movies in ``genre``; raises ``InvalidInputError`` for an unknown genre."""
        if genre not in self._genre_members:
            if genre not in self.genres():
                raise InvalidInputError(f"unknown genre {genre!r}; see the genres query")
            with self._engine.connect() as conn:
                self._genre_members[genre] = frozenset(queries.movie_ids_in_genre(conn, genre))
        return self._genre_members[genre]

    def search(
        self,
        *,
        search: str | None,
        genre: str | None,
        order: MovieOrder,
        first: int,
        offset: int,
    ) -> tuple[list[MovieRow], int]:
        """One page of matching movies and the total number of matches."""
        check_page_size(first)
        if search is not None and len(search) > MAX_SEARCH_LENGTH:
            raise InvalidInputError(f"search is limited to {MAX_SEARCH_LENGTH} characters")
        if genre is not None:
            self.genre_members(genre)
        with self._engine.connect() as conn:
            ids, total = queries.search_movies(
                conn, search=search, genre=genre, order=order, limit=first, offset=offset
            )
        return self.ordered(ids), total

    def rail(self, rail: Rail, first: int) -> list[MovieRow]:
        check_page_size(first)
        now = time.monotonic()
        with self._rails_lock:
            cached = self._rails.get(rail)
            if cached is None or now - cached[0] > self._rails_ttl:
                with self._engine.connect() as conn:
                    cached = (now, self._rail_query(rail)(conn))
                self._rails[rail] = cached
        return self.ordered(cached[1][:first])

    def _rail_query(self, rail: Rail) -> Callable[..., list[int]]:
        """The rail's full ranking (MAX_PAGE long) so that any ``first`` is served from cache."""
        if rail is Rail.FEATURED:
            return lambda conn: queries.featured_movie_ids(conn, MAX_PAGE)
        if rail is Rail.TRENDING:
            return lambda conn: queries.trending_movie_ids(
                conn, MAX_PAGE, window_seconds=self._trending_window
            )
        return lambda conn: queries.newly_added_movie_ids(conn, MAX_PAGE)


def check_page_size(first: int) -> None:
    if not 0 <= first <= MAX_PAGE:
        raise InvalidInputError(f"first must be between 0 and {MAX_PAGE}, got {first}")
