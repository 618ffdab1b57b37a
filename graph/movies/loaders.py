"""Batch functions behind the movie DataLoaders: one service call for all keys of a tick."""

from __future__ import annotations

from data.movies import MovieRow, RatingStats
from graph.services.catalog import Catalog
from graph.threads import Run


async def movies(catalog: Catalog, run: Run, ids: list[int]) -> list[MovieRow | None]:
    # Rows are cached per worker; only a miss is worth a trip to a thread.
    found = catalog.cached(ids) or await run(catalog.movies, ids)
    return [found.get(movie_id) for movie_id in ids]


async def rating_stats(catalog: Catalog, run: Run, ids: list[int]) -> list[RatingStats]:
    found = await run(catalog.rating_stats, ids)
    return [found[movie_id] for movie_id in ids]
