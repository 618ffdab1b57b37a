"""Batch function behind the saved-movie DataLoader: one query for all keys of a tick."""

from __future__ import annotations

from graph.services.watchlist import Watchlist
from graph.threads import Run


async def saved(
    watchlist: Watchlist, viewer_id: int | None, run: Run, movie_ids: list[int]
) -> list[bool | None]:
    """Whether the viewer saved each movie; all None signed out (nobody's list is read)."""
    if viewer_id is None:
        return [None] * len(movie_ids)
    found = await run(watchlist.saved_among, viewer_id, movie_ids)
    return [movie_id in found for movie_id in movie_ids]
