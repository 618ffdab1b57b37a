"""A movie row with only MovieLens' fields, for the store tests that need movies to exist."""

from __future__ import annotations


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
