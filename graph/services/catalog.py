"""Movies as the API serves them: cached rows, search, rating stats and the home-screen rails.

Movie rows, genres and the search index change only when the ETL runs again, so each worker
keeps them in memory (bounded by the catalog's size; a restart picks up a new load) and
searches without SQL. Aggregates over every rating (the stats that order searches by popularity
or rating, and the rails) cost a pass over the ratings table, so they are recomputed at most
every ``aggregates_ttl_seconds``: such an order or a home-screen chip may lag a minute behind a
new rating. A movie's own ``ratingStats`` is always read fresh.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from enum import Enum
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine

from data import movies as queries
from data import stats
from data.movies import MovieRow, RatingStats, SearchEntry
from graph.services.errors import InvalidInputError

MAX_PAGE = 100
MAX_SEARCH_LENGTH = 200
# Bayesian average of the featured rail: this many ratings' worth of the global mean as prior.
FEATURED_PRIOR_RATINGS = 50
# Trending's window reaches back until it holds this many people: five new accounts are then at
# most 5 of 100 raters (the real data's top ten trending have 34 to 48 raters each).
TRENDING_MIN_WINDOW_RATERS = 100
# Newly added lists a movie once this many people rated it: more than a few accounts can muster
# for a movie nobody else watched (a third of MovieLens' movies have one rating).
NEWLY_ADDED_MIN_RATERS = 10
# How deep a rail's "See all" pages: each ranking is computed this long once per TTL, so every
# page is a slice of the cache (a rail is a shortlist; search pages through the whole catalog).
RAIL_DEPTH = 500

T = TypeVar("T")


class MovieOrder(Enum):
    POPULARITY = "popularity"
    TITLE = "title"
    YEAR = "year"
    RATING = "rating"


class Rail(Enum):
    FEATURED = "featured"
    TRENDING = "trending"
    NEWLY_ADDED = "newly_added"


class Catalog:
    def __init__(
        self,
        engine: Engine,
        *,
        aggregates_ttl_seconds: float = 60.0,
        trending_window_days: int = 90,
    ) -> None:
        self._engine = engine
        self._rows: dict[int, MovieRow] = {}
        self._genre_members: dict[str, frozenset[int]] = {}
        self._genres: list[str] | None = None
        self._index: list[SearchEntry] | None = None
        # The index in each order, and the stats that order was sorted by (None: by no stats).
        self._orders: dict[MovieOrder, tuple[object, list[SearchEntry]]] = {}
        # One build of the index and of each order at a time: seven aliased searches reaching
        # a cold worker together built the index seven times over (bench/attack.py: 1.4 s of
        # CPU for one request at load 18-31, against 0.2 s warm).
        self._index_lock = threading.Lock()
        self._aggregates: dict[object, tuple[float, Any]] = {}
        self._aggregates_lock = threading.RLock()  # featured reads the stats inside
        self._ttl = aggregates_ttl_seconds
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
        """One page of matching movies and the total number of matches.

        ``search`` is a case-insensitive substring of the title (without the year, as MovieLens
        files it or as displayed) or of the original title. Title order is MovieLens' filing
        order, which ignores a leading article ("The Godfather" sorts under G). Ties in every
        order fall back to the id, so pages never overlap.
        """
        check_page_size(first)
        if search is not None and len(search) > MAX_SEARCH_LENGTH:
            raise InvalidInputError(f"search is limited to {MAX_SEARCH_LENGTH} characters")
        members = self.genre_members(genre) if genre is not None else None
        needle = search.lower() if search else None
        matches = [
            entry
            for entry in self._in_order(order)
            if (members is None or entry.id in members)
            and (
                needle is None
                or needle in entry.title
                or needle in entry.display_title
                or needle in entry.original_title
            )
        ]
        page = [entry.id for entry in matches[offset : offset + first]]
        return self.ordered(page), len(matches)

    def rail(self, rail: Rail, first: int, offset: int = 0) -> tuple[list[MovieRow], int]:
        """One page of the rail's ranking and the ranking's length (at most ``RAIL_DEPTH``)."""
        check_page_size(first)
        ranking: list[int] = self._aggregate(rail, self._rail_query(rail))
        return self.ordered(ranking[offset : offset + first]), len(ranking)

    def _search_index(self) -> list[SearchEntry]:
        with self._index_lock:
            if self._index is None:
                with self._engine.connect() as conn:
                    self._index = queries.search_index(conn)
            return self._index

    def _in_order(self, order: MovieOrder) -> list[SearchEntry]:
        """The whole index in ``order``, sorted once (again when the stats it sorts by are
        recomputed), so a search only filters: sorting the matches per search was most of a
        one-letter search's time (every movie matches)."""
        index = self._search_index()
        stats = self._all_stats() if order in (MovieOrder.POPULARITY, MovieOrder.RATING) else None
        with self._index_lock:
            cached = self._orders.get(order)
            if cached is None or cached[0] is not stats:
                cached = (stats, sorted(index, key=self._sort_key(order, stats or {})))
                self._orders[order] = cached
            return cached[1]

    def _all_stats(self) -> dict[int, RatingStats]:
        return self._aggregate("stats", queries.all_rating_stats)

    @staticmethod
    def _sort_key(
        order: MovieOrder, stats: dict[int, RatingStats]
    ) -> Callable[[SearchEntry], tuple[Any, ...]]:
        if order is MovieOrder.TITLE:
            return lambda entry: (entry.title, entry.id)
        if order is MovieOrder.YEAR:
            return lambda entry: (entry.year is None, -(entry.year or 0), entry.id)
        unrated = RatingStats(None, 0)
        if order is MovieOrder.POPULARITY:
            return lambda entry: (-stats.get(entry.id, unrated).count, entry.id)
        return lambda entry: (
            entry.id not in stats,
            -(stats[entry.id].average or 0) if entry.id in stats else 0,
            entry.id,
        )

    def _aggregate(self, key: object, compute: Callable[[Connection], T]) -> T:
        """``compute``'s result, recomputed when older than the TTL (one caller at a time)."""
        with self._aggregates_lock:
            now = time.monotonic()
            cached = self._aggregates.get(key)
            if cached is None or now - cached[0] > self._ttl:
                with self._engine.connect() as conn:
                    cached = (now, compute(conn))
                self._aggregates[key] = cached
            return cached[1]

    def _rail_query(self, rail: Rail) -> Callable[[Connection], list[int]]:
        """The rail's ranking, ``RAIL_DEPTH`` long so that every page is served from the cache."""
        if rail is Rail.FEATURED:
            return lambda _conn: featured(self._all_stats(), RAIL_DEPTH)
        if rail is Rail.TRENDING:
            return lambda conn: stats.trending_movie_ids(
                conn,
                RAIL_DEPTH,
                window_seconds=self._trending_window,
                min_window_raters=TRENDING_MIN_WINDOW_RATERS,
            )
        return lambda conn: stats.newly_added_movie_ids(
            conn, RAIL_DEPTH, min_raters=NEWLY_ADDED_MIN_RATERS
        )


def featured(stats: dict[int, RatingStats], limit: int) -> list[int]:
    """Movies by Bayesian-averaged rating: (sum + m * global mean) / (count + m).

    The prior pulls movies with few ratings towards the global mean, so a film rated 5.0 once
    does not outrank one rated 4.5 by three hundred people.
    """
    total = sum(s.count for s in stats.values())
    if not total:
        return []
    mean = sum((s.average or 0) * s.count for s in stats.values()) / total
    m = FEATURED_PRIOR_RATINGS

    def score(movie_id: int) -> float:
        s = stats[movie_id]
        return ((s.average or 0) * s.count + m * mean) / (s.count + m)

    return sorted(stats, key=lambda movie_id: (-score(movie_id), movie_id))[:limit]


def check_page_size(first: int) -> None:
    if not 0 <= first <= MAX_PAGE:
        raise InvalidInputError(f"first must be between 0 and {MAX_PAGE}, got {first}")
