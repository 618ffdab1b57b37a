"""Rows for the store tests that need movies and users to exist."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Engine

from data import catalog
from data.db import open_store


def bare_movie(movie_id: int, title: str | None = None) -> dict[str, object]:
    """Movie ``movie_id`` titled ``title`` (default ``M<id>``), from 2000, no TMDB fields."""
    title = f"M{movie_id}" if title is None else title
    return {
        "id": movie_id,
        "title": title,
        "movielens_title": f"{title} (2000)",
        "year": 2000,
        "imdb_id": None,
        "tmdb_id": None,
        "original_title": None,
        "overview": None,
        "poster_path": None,
        "backdrop_path": None,
    }


def seeded_store(url: str, movie_ids: Iterable[int], user_ids: Iterable[int]) -> Engine:
    """A store at head at ``url`` with bare movies and demo users of those ids, nothing rated."""
    engine = open_store(url, create=True)
    with engine.begin() as conn:
        catalog.merge_rows(conn, catalog.MOVIES, [bare_movie(n) for n in movie_ids])
        catalog.merge_rows(
            conn,
            catalog.DEMO_USERS,
            [
                {"id": n, "username": f"user{n}", "password_hash": "h", "is_demo": True}
                for n in user_ids
            ],
        )
    return engine
