"""Reads behind the data report, TMDB enrichment and the home-screen rails.

The report's analysis is pure (``recommender.analysis``, frames in); ``movies_frame`` and
``movie_genres_frame`` hand it the catalog side, beside ``data.ratings.ratings_frame`` for the
ratings.

What each rail reads (an aggregate over every rating took minutes at 25 M ratings on SQLite;
``bench/rail_queries.py`` measures them against those old queries):

- newly added (and featured, and the catalog's popularity and rating sorts, through
  ``data.movies.all_rating_stats``): ``movie_rating_stats``, one row per rated movie, which
  triggers on ``ratings`` keep current (migration 0006): its cost grows with the catalog, not
  with the ratings.
- trending: the newest ratings only, through ``ix_ratings_time``: walking it newest first until
  enough people are seen, then the ratings of the window, materialized from a range of that index
  before they are grouped (a plain ``WHERE rated_at >= ...`` let the planner group along
  ``ix_ratings_movie`` over every rating instead). Its cost grows with the window's ratings.

At 2.5 M synthetic ratings on SQLite that is 9 ms of CPU for newly added and 8 ms for trending,
against about 7 s each for the queries they replaced (README, "Scale").

The rails count people, not ratings, and anchor their windows on how many people are in them,
never on the newest rating alone: a handful of accounts rating the same movie today must not
take a rail over (issue 13). A rating is one per user and movie (the primary key), so a count of
rows is a count of distinct raters.
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Connection, func, select

from data.schema import genres, movie_genres, movie_rating_stats, movies, ratings


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
    nth_rater = nth_newest_rater(conn, min_window_raters)
    # Fewer people than that in the whole store: the window is all of it.
    start = None if nth_rater is None else min(newest - window_seconds, nth_rater)
    recent = select(ratings.c.movie_id, ratings.c.rated_at)
    if start is not None:
        recent = recent.where(ratings.c.rated_at >= start)
    # MATERIALIZED: read the window from its range of ix_ratings_time, then group it; left to
    # itself the planner groups every rating along ix_ratings_movie and filters on the way.
    window = recent.cte("recent").prefix_with("MATERIALIZED")
    query = (
        select(window.c.movie_id)
        .group_by(window.c.movie_id)
        .order_by(func.count().desc(), func.max(window.c.rated_at).desc(), window.c.movie_id)
        .limit(limit)
    )
    return list(conn.execute(query).scalars().all())


# Rows first read from ix_ratings_time while looking for the newest raters; each further read
# takes four times as many (a reread of at most a third more rows than needed), in plain
# statements: a server-side cursor would need a transaction the readers do not open.
_RATER_BATCH = 2000


def nth_newest_rater(conn: Connection, count: int) -> int | None:
    """When the ``count``-th most recently active person last rated (None: fewer people).

    The ratings are walked newest first along ``ix_ratings_time`` until ``count`` distinct
    people are seen: the time at which the last of them appears is their newest rating, as a
    ``max(rated_at)`` per user ranked newest first would say, without grouping every rating.
    """
    query = select(ratings.c.user_id, ratings.c.rated_at).order_by(ratings.c.rated_at.desc())
    limit = _RATER_BATCH
    while True:
        rows = conn.execute(query.limit(limit)).all()
        seen: set[int] = set()
        for user_id, rated_at in rows:
            seen.add(user_id)
            if len(seen) == count:
                return int(rated_at)
        if len(rows) < limit:
            return None
        limit *= 4


def newly_added_movie_ids(conn: Connection, limit: int, *, min_raters: int) -> list[int]:
    """Movies by their first rating, newest first, among those ``min_raters`` people rated.

    MovieLens has no "added" date; the first rating is the earliest moment anyone could see it,
    which is a better proxy than the id (ids are assigned in bulk, not in release order). The
    minimum keeps out a movie only its first few raters know, which a few accounts could
    otherwise put at the top by rating a movie nobody had rated.
    """
    stats = movie_rating_stats.c
    query = (
        select(stats.movie_id)
        .where(stats.rating_count >= min_raters)
        .order_by(stats.first_rated_at.desc(), stats.movie_id.desc())
        .limit(limit)
    )
    return list(conn.execute(query).scalars().all())


def tmdb_ids(conn: Connection) -> dict[int, int]:
    """``movie id -> TMDB id`` for every movie that has one; what enrichment fetches."""
    query = select(movies.c.id, movies.c.tmdb_id).where(movies.c.tmdb_id.is_not(None))
    return {row.id: row.tmdb_id for row in conn.execute(query).all()}
