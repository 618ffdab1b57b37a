"""Pages of the viewer's watchlist, newest first."""

from __future__ import annotations

from graph.context import Info
from graph.movies.connection import MovieConnection, movie_connection
from graph.movies.movie import movies_by_ids
from graph.pagination import decode_cursor


async def watchlist_connection(
    info: Info, user_id: int, *, first: int, after: str | None
) -> MovieConnection:
    """A page of the user's saved movies; the caller has checked the user may be read."""
    offset = decode_cursor(after)
    watchlist = info.context.services.watchlist
    ids, total = await info.context.run(lambda: watchlist.page(user_id, first=first, offset=offset))
    return movie_connection(await movies_by_ids(info, ids), offset, total)
