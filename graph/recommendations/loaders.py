"""Batch functions behind the predicted-rating, reason and similar-movies DataLoaders: one model
call for all keys of a tick, so a list of ten recommendations costs one fold-in and one
explanation, and the ``similar`` of a page of movies one trip to a thread."""

from __future__ import annotations

from graph.services.recommendations import Reason, Recommendations
from graph.threads import Run


async def predicted_ratings(
    service: Recommendations, viewer_id: int | None, run: Run, movie_ids: list[int]
) -> list[float | None]:
    """The model's prediction for the viewer per movie; all None signed out."""
    if viewer_id is None:
        return [None] * len(movie_ids)
    user = await run(service.user_ratings, viewer_id)
    return service.predicted(user, movie_ids)


async def reasons(
    service: Recommendations, viewer_id: int | None, run: Run, movie_ids: list[int]
) -> list[list[Reason] | None]:
    """Why the model ranks each movie for the viewer; all None signed out."""
    if viewer_id is None:
        return [None] * len(movie_ids)
    user = await run(service.user_ratings, viewer_id)
    return list(await run(service.reasons, user, movie_ids))


async def similar(
    service: Recommendations, run: Run, asked: list[tuple[int, int]]
) -> list[list[int]]:
    """The similar movies' ids per (movie id, first): all of a tick's lists in one call, so
    their movie rows then load together too (one statement for a page, not one per movie)."""
    return list(await run(service.similar_lists, asked))
