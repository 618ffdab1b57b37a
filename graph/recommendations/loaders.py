"""Batch function behind the predicted-rating DataLoader: one fold-in for all keys of a tick."""

from __future__ import annotations

from graph.services.recommendations import Recommendations
from graph.threads import Run


async def predicted_ratings(
    service: Recommendations, viewer_id: int | None, run: Run, movie_ids: list[int]
) -> list[float | None]:
    """The model's prediction for the viewer per movie; all None signed out."""
    if viewer_id is None:
        return [None] * len(movie_ids)
    user = await run(service.user_ratings, viewer_id)
    return service.predicted(user, movie_ids)
