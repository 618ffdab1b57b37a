"""Per-request DataLoaders: every relation a list of movies touches costs one batched call.

A page of 100 ratings asks each loader for 100 keys in one tick of the event loop; the loader
turns them into a single service call, so the number of SQL statements stays constant.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
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
        self.movie = DataLoader[int, MovieRow | None](self._movies)
        self.rating_stats = DataLoader[int, RatingStats](self._rating_stats)
        self.viewer_rating = DataLoader[int, float | None](self._viewer_ratings)
        self.predicted_rating = DataLoader[int, float | None](self._predicted_ratings)
        self.rating_count = DataLoader[int, int](self._rating_counts)

    async def _movies(self, ids: list[int]) -> list[MovieRow | None]:
        found = await self._run(self._services.catalog.movies, ids)
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
