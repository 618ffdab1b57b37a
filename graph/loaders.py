"""Per-request DataLoaders: every relation a list of movies touches costs one batched call.

A page of 100 ratings asks each loader for 100 keys in one tick of the event loop; the loader
turns them into a single service call, so the number of SQL statements stays constant. Each
domain owns its batch functions (``movies.loaders``, ``ratings.loaders``,
``recommendations.loaders``); this class binds them to one request's services and viewer.
"""

from __future__ import annotations

from functools import cached_property, partial

from strawberry.dataloader import DataLoader

from data.movies import MovieRow, RatingStats
from graph.movies import loaders as movies
from graph.ratings import loaders as ratings
from graph.recommendations import loaders as recommendations
from graph.services.bundle import Services
from graph.services.recommendations import Reason
from graph.threads import Run
from graph.watchlist import loaders as watchlist


class Loaders:
    def __init__(self, services: Services, viewer_id: int | None, *, run: Run) -> None:
        self._services = services
        self._viewer_id = viewer_id
        self._run = run

    # Built on first use: most requests touch one or two of these, and each costs a little.
    @cached_property
    def movie(self) -> DataLoader[int, MovieRow | None]:
        return DataLoader(partial(movies.movies, self._services.catalog, self._run))

    @cached_property
    def rating_stats(self) -> DataLoader[int, RatingStats]:
        return DataLoader(partial(movies.rating_stats, self._services.catalog, self._run))

    @cached_property
    def viewer_rating(self) -> DataLoader[int, float | None]:
        return DataLoader(
            partial(ratings.viewer_ratings, self._services.ratings, self._viewer_id, self._run)
        )

    @cached_property
    def rating_count(self) -> DataLoader[int, int]:
        return DataLoader(partial(ratings.rating_counts, self._services.ratings, self._run))

    @cached_property
    def predicted_rating(self) -> DataLoader[int, float | None]:
        return DataLoader(
            partial(
                recommendations.predicted_ratings,
                self._services.recommendations,
                self._viewer_id,
                self._run,
            )
        )

    @cached_property
    def reasons(self) -> DataLoader[int, list[Reason] | None]:
        return DataLoader(
            partial(
                recommendations.reasons,
                self._services.recommendations,
                self._viewer_id,
                self._run,
            )
        )

    @cached_property
    def similar(self) -> DataLoader[tuple[int, int], list[int]]:
        """Keyed by (movie id, first): one movie asked with two sizes is two lists."""
        return DataLoader(
            partial(recommendations.similar, self._services.recommendations, self._run)
        )

    @cached_property
    def saved(self) -> DataLoader[int, bool | None]:
        return DataLoader(
            partial(watchlist.saved, self._services.watchlist, self._viewer_id, self._run)
        )
