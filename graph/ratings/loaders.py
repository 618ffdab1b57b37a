"""Batch functions behind the rating DataLoaders: one service call for all keys of a tick."""

from __future__ import annotations

from graph.services.ratings import Ratings
from graph.threads import Run


async def viewer_ratings(
    ratings: Ratings, viewer_id: int | None, run: Run, movie_ids: list[int]
) -> list[float | None]:
    """The viewer's own rating of each movie; all None signed out (nobody's ratings are read)."""
    if viewer_id is None:
        return [None] * len(movie_ids)
    found = await run(ratings.of_movies, viewer_id, movie_ids)
    return [found.get(movie_id) for movie_id in movie_ids]


async def rating_counts(ratings: Ratings, run: Run, user_ids: list[int]) -> list[int]:
    found = await run(ratings.counts, user_ids)
    return [found[user_id] for user_id in user_ids]
