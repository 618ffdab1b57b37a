"""A signed-in user's watchlist: saving and unsaving movies, and reading it a page at a time.

Saved movies leave the user's recommendations (``recommendations``) and leave the watchlist
when the user rates them (``ratings``): a movie on the list is one still to be watched.
"""

from __future__ import annotations

import time

from sqlalchemy import Engine

from data import watchlist as queries
from data.movies import existing_movie_id
from graph.services.catalog import check_page_size
from graph.services.outcomes import Rejected
from graph.services.ratings import no_movie


class Watchlist:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def save(self, user_id: int, movie_id: int) -> Rejected | None:
        """Save a movie (again is fine); None once saved, else why nothing was written."""
        with self._engine.begin() as conn:
            if not existing_movie_id(conn, movie_id):
                return no_movie(movie_id)
            queries.save(conn, user_id, movie_id, int(time.time()))
        return None

    def unsave(self, user_id: int, movie_id: int) -> Rejected | None:
        """Take a movie off the watchlist (not on it is fine); None once done."""
        with self._engine.begin() as conn:
            if not existing_movie_id(conn, movie_id):
                return no_movie(movie_id)
            queries.unsave(conn, user_id, movie_id)
        return None

    def page(self, user_id: int, *, first: int, offset: int) -> tuple[list[int], int]:
        """Saved movie ids, newest first, from ``offset``; and how many there are in all."""
        check_page_size(first)
        with self._engine.connect() as conn:
            return queries.page(conn, user_id, limit=first, offset=offset)

    def saved_among(self, user_id: int, movie_ids: list[int]) -> set[int]:
        with self._engine.connect() as conn:
            return queries.saved_among(conn, user_id, movie_ids)
