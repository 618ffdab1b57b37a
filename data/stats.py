"""Reads behind the data report, TMDB enrichment and the home-screen rails.

The report's analysis is pure (``recommender.analysis``, frames in); ``movies_frame`` and
``movie_genres_frame`` hand it the catalog side, beside ``data.ratings.ratings_frame`` for the
ratings. The rails' queries aggregate in the database and return a few hundred rows at most, so
they cost the same whatever the number of ratings.

The rails count people, not ratings, and anchor their windows on how many people are in them,
never on the newest rating alone: a handful of accounts rating the same movie today must not
take a rail over (issue 13). A rating is one per user and movie (the primary key), so a count of
rows is a count of distinct raters.
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Connection, func, select

from data.schema import genres, movie_genres, movies, ratings


def movies_frame(conn: Connection) -> pd.DataFrame:
    """Every movie as ``movie_id, title`` (MovieLens' title) and ``tmdb_id`` (NA when unknown)."""
    query = select(movies.c.id, movies.c.movielens_title, movies.c.tmdb_id).order_by(movies.c.id)
    rows = conn.execute(query).all()
    return pd.DataFrame(
        {
            "movie_id": pd.array([row.id for row in rows], dtype="int64"),
            "title": pd.array([row.movielens_title for row in rows], dtype="object"),
            "tmdb_id": pd.array([row.tmdb_id for row in rows], dtype="Int64"),
        }
    )


def movie_genres_frame(conn: Connection) -> pd.DataFrame:
    """One ``movie_id, genre`` row per movie and genre it is listed under."""
    query = select(movie_genres.c.movie_id, genres.c.name).join(
        genres, movie_genres.c.genre_id == genres.c.id
    )
    return pd.DataFrame(conn.execute(query).all(), columns=["movie_id", "genre"])


def trending_movie_ids(
    conn: Connection, limit: int, *, window_seconds: int, min_window_raters: int
) -> list[int]:
    """Movies by their number of raters in the recent window, most first.

    The window ends at the newest rating and reaches back far enough to hold at least
    ``min_window_raters`` people (and at least ``window_seconds``). Ending at the newest rating
    keeps a historical data set trending; widening it to enough people means that a few new
    accounts become a few raters among many, instead of the only raters in a window of one day.
    """
    newest = conn.execute(select(func.max(ratings.c.rated_at))).scalar()
    if newest is None:
        return []
    last_seen = func.max(ratings.c.rated_at).label("last_seen")
    nth_newest_rater = conn.execute(
        select(last_seen)
        .group_by(ratings.c.user_id)
        .order_by(last_seen.desc())
        .offset(min_window_raters - 1)
        .limit(1)
    ).scalar()
    # Fewer people than that in the whole store: the window is all of it.
    start = None if nth_newest_rater is None else min(newest - window_seconds, nth_newest_rater)
    query = select(ratings.c.movie_id).group_by(ratings.c.movie_id)
    if start is not None:
        query = query.where(ratings.c.rated_at >= start)
    query = query.order_by(
        func.count().desc(), func.max(ratings.c.rated_at).desc(), ratings.c.movie_id
    ).limit(limit)
    return list(conn.execute(query).scalars().all())


def newly_added_movie_ids(conn: Connection, limit: int, *, min_raters: int) -> list[int]:
    """Movies by their first rating, newest first, among those ``min_raters`` people rated.

    MovieLens has no "added" date; the first rating is the earliest moment anyone could see it,
    which is a better proxy than the id (ids are assigned in bulk, not in release order). The
    minimum keeps out a movie only its first few raters know, which a few accounts could
    otherwise put at the top by rating a movie nobody had rated.
    """
    first_rated = func.min(ratings.c.rated_at)
    query = (
        select(ratings.c.movie_id)
        .group_by(ratings.c.movie_id)
        .having(func.count() >= min_raters)
        .order_by(first_rated.desc(), ratings.c.movie_id.desc())
        .limit(limit)
    )
    return list(conn.execute(query).scalars().all())


def tmdb_ids(conn: Connection) -> dict[int, int]:
    """``movie id -> TMDB id`` for every movie that has one; what enrichment fetches."""
    query = select(movies.c.id, movies.c.tmdb_id).where(movies.c.tmdb_id.is_not(None))
    return {row.id: row.tmdb_id for row in conn.execute(query).all()}
