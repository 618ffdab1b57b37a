"""Watchlist queries: a user's saved movies, newest first, and saving or unsaving one."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, delete, func, select

from data.catalog import upsert
from data.schema import watchlist


def save(conn: Connection, user_id: int, movie_id: int, added_at: int) -> None:
    """Add a movie to the user's watchlist; saving it again keeps the first date, so a double
    tap neither moves it nor collides (one ``INSERT ... ON CONFLICT DO NOTHING``)."""
    row = {"user_id": user_id, "movie_id": movie_id, "added_at": added_at}
    upsert(conn, watchlist, [row], key=["user_id", "movie_id"])


def unsave(conn: Connection, user_id: int, movie_id: int) -> None:
    conn.execute(
        delete(watchlist).where(watchlist.c.user_id == user_id, watchlist.c.movie_id == movie_id)
    )


def page(conn: Connection, user_id: int, *, limit: int, offset: int) -> tuple[list[int], int]:
    """One page of the user's saved movie ids, newest first (ties by id), and their total."""
    query = (
        select(watchlist.c.movie_id)
        .where(watchlist.c.user_id == user_id)
        .order_by(watchlist.c.added_at.desc(), watchlist.c.movie_id.desc())
        .limit(limit)
        .offset(offset)
    )
    total = conn.execute(
        select(func.count()).select_from(watchlist).where(watchlist.c.user_id == user_id)
    ).scalar_one()
    return list(conn.execute(query).scalars().all()), int(total)


def saved_among(conn: Connection, user_id: int, movie_ids: Sequence[int]) -> set[int]:
    """Which of ``movie_ids`` the user has saved."""
    query = select(watchlist.c.movie_id).where(
        watchlist.c.user_id == user_id, watchlist.c.movie_id.in_(sorted(set(movie_ids)))
    )
    return set(conn.execute(query).scalars().all())
