"""Per-request DataLoaders: every relation a list of movies touches costs one batched call.

A page of 100 ratings asks each loader for 100 keys in one tick of the event loop; the loader
turns them into a single service call, so the number of SQL statements stays constant.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import cached_property
from typing import Any

from strawberry.dataloader import DataLoader

from data.movies import MovieRow, RatingStats
from graph.services.bundle import Services

Run = Callable[..., Awaitable[Any]]


class Loaders:
    def __init__(self, services: Services, viewer_id: int | None, *, run: Run) -> None:
        self._services = services
        self._viewer_id = viewer_id
        self._run = run

    # Built on first use: most requests touch one or two of these, and each costs a little.
    @cached_property
    def movie(self) -> DataLoader[int, MovieRow | None]:
        return DataLoader(self._movies)

    @cached_property
    def rating_stats(self) -> DataLoader[int, RatingStats]:
        return DataLoader(self._rating_stats)

    @cached_property
    def viewer_rating(self) -> DataLoader[int, float | None]:
        return DataLoader(self._viewer_ratings)

    @cached_property
    def predicted_rating(self) -> DataLoader[int, float | None]:
        return DataLoader(self._predicted_ratings)

    @cached_property
    def rating_count(self) -> DataLoader[int, int]:
        return DataLoader(self._rating_counts)

    async def _movies(self, ids: list[int]) -> list[MovieRow | None]:
        catalog = self._services.catalog
        # Rows are cached per worker; only a miss is worth a trip to a thread.
        found = catalog.cached(ids) or await self._run(catalog.movies, ids)
        return [found.get(movie_id) for movie_id in ids]

    async def _rating_stats(self, ids: list[int]) -> list[RatingStats]:
        found = await self._run(self._services.catalog.rating_stats, ids)
        return [found[movie_id] for movie_id in ids]

    async def _viewer_ratings(self, ids: list[int]) -> list[float | None]:
        if self._viewer_id is None:
            return [None] * len(ids)
        found = await self._run(self._services.ratings.of_movies, self._viewer_id, ids)
        return [found.get(movie_id) for movie_id in ids]

    async def _predicted_ratings(self, ids: list[int]) -> list[float | None]:
        if self._viewer_id is None:
            return [None] * len(ids)
        service = self._services.recommendations
        user = await self._run(service.user_ratings, self._viewer_id)
        return service.predicted(user, ids)

    async def _rating_counts(self, user_ids: list[int]) -> list[int]:
        found = await self._run(self._services.ratings.counts, user_ids)
        return [found[user_id] for user_id in user_ids]
