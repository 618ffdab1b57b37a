"""A signed-in user's ratings: reading pages of them, rating and un-rating movies.

A rating is written durably before the call returns; recommendations read the store on every
request, so the next query reflects it (see ``recommendations``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import Engine

from data import ratings as queries
from data import watchlist
from data.db import UNANSWERED, LoopReads, reader
from data.domain import RATING_SCALE
from data.movies import existing_movie_id
from data.ratings import RatingOrder, RatingRow
from graph.services.catalog import check_page_size
from graph.services.outcomes import Refusal, Rejected


@dataclass(frozen=True, slots=True)
class RatingsPage:
    rows: list[RatingRow]
    total: int


class Ratings:
    def __init__(self, engine: Engine, loop_reads: LoopReads | None = None) -> None:
        self._engine = engine
        self._reads = reader(engine)
        self._loop_reads = loop_reads or LoopReads(engine)

    def page(self, user_id: int, *, order: RatingOrder, first: int, offset: int) -> RatingsPage:
        check_page_size(first)
        with self._reads.connect() as conn:
            rows, total = queries.user_ratings_page(
                conn, user_id, order=order, limit=first, offset=offset
            )
        return RatingsPage(rows, total)

    def counts(self, user_ids: list[int]) -> dict[int, int]:
        with self._reads.connect() as conn:
            return queries.rating_counts(conn, user_ids)

    def of_movies(self, user_id: int, movie_ids: list[int]) -> dict[int, float]:
        with self._reads.connect() as conn:
            return queries.user_ratings_for(conn, user_id, movie_ids)

    def rated_movie_ids(self, user_id: int) -> list[int]:
        with self._reads.connect() as conn:
            return queries.user_rated_movie_ids(conn, user_id)

    async def rated_movie_ids_on_loop(self, user_id: int) -> list[int] | None:
        """``rated_movie_ids`` read on the calling event loop (``data.db.LoopReads``) where
        the store packs it into one row (PostgreSQL); None otherwise, for ``rated_movie_ids``
        in a thread (SQLite's rows, another loop, every connection busy)."""
        found = await self._loop_reads.read(queries.rated_movie_ids_packed(user_id))
        return None if found is UNANSWERED else found

    def rate(self, user_id: int, movie_id: int, rating: float) -> Rejected | None:
        """Store a half-star rating; None once stored, else why nothing was written."""
        if not RATING_SCALE.allows(rating):
            return Rejected(
                Refusal.INVALID_RATING, f"a rating is {RATING_SCALE.describe()}, got {rating:g}"
            )
        with self._engine.begin() as conn:
            if not existing_movie_id(conn, movie_id):
                return no_movie(movie_id)
            queries.set_rating(conn, user_id, movie_id, rating, int(time.time()))
            watchlist.unsave(conn, user_id, movie_id)  # rated means watched: off the list
        return None

    def remove(self, user_id: int, movie_id: int) -> Rejected | None:
        """Forget the user's rating of a movie (none is fine); None once done."""
        with self._engine.begin() as conn:
            if not existing_movie_id(conn, movie_id):
                return no_movie(movie_id)
            queries.remove_rating(conn, user_id, movie_id)
        return None


def no_movie(movie_id: int) -> Rejected:
    return Rejected(Refusal.MOVIE_NOT_FOUND, f"no movie with id {movie_id}")
