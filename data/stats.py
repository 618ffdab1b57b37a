"""Aggregate read queries behind the data report, TMDB enrichment and the home-screen rails.

Each query aggregates in the database and returns a few hundred rows at most, so the report
and the rails cost the same whatever the number of ratings.

The rails count people, not ratings, and anchor their windows on how many people are in them,
never on the newest rating alone: a handful of accounts rating the same movie today must not
take a rail over (issue 13). A rating is one per user and movie (the primary key), so a count of
rows is a count of distinct raters.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, distinct, func, select

from data.schema import genres, movie_genres, movies, ratings


@dataclass(frozen=True, slots=True)
class Counts:
    users: int
    movies: int
    rated_movies: int
    ratings: int


@dataclass(frozen=True, slots=True)
class MovieRatings:
    movie_id: int
    title: str
    count: int
    mean: float


def counts(conn: Connection) -> Counts:
    """Users who rated, catalog movies, movies with a rating, ratings."""
    rated = conn.execute(
        select(
            func.count(distinct(ratings.c.user_id)),
            func.count(distinct(ratings.c.movie_id)),
            func.count(),
        )
    ).one()
    catalog = conn.execute(select(func.count()).select_from(movies)).scalar_one()
    return Counts(users=rated[0], movies=catalog, rated_movies=rated[1], ratings=rated[2])


def rating_counts(conn: Connection) -> dict[float, int]:
    """How many ratings have each value (0.5 .. 5.0), ascending by value."""
    query = (
        select(ratings.c.rating, func.count()).group_by(ratings.c.rating).order_by(ratings.c.rating)
    )
    return {float(value): int(n) for value, n in conn.execute(query)}


def movies_per_genre(conn: Connection) -> list[tuple[str, int]]:
    """Genres with their number of movies, most common first."""
    n = func.count(movie_genres.c.movie_id)
    query = (
        select(genres.c.name, n)
        .join(movie_genres, movie_genres.c.genre_id == genres.c.id)
        .group_by(genres.c.name)
        .order_by(n.desc(), genres.c.name)
    )
    return [(name, int(count)) for name, count in conn.execute(query)]


def most_rated(conn: Connection, limit: int) -> list[MovieRatings]:
    """The movies with the most ratings (ties by title)."""
    return _movie_ratings(conn, order="count", min_ratings=0, limit=limit)


def best_rated(conn: Connection, *, min_ratings: int, limit: int) -> list[MovieRatings]:
    """The best mean rating among movies with more than ``min_ratings`` ratings."""
    return _movie_ratings(conn, order="mean", min_ratings=min_ratings, limit=limit)


def _movie_ratings(
    conn: Connection, *, order: str, min_ratings: int, limit: int
) -> list[MovieRatings]:
    n = func.count().label("n")
    mean = func.avg(ratings.c.rating).label("mean")
    first, second = (n, mean) if order == "count" else (mean, n)
    query = (
        select(movies.c.id, movies.c.movielens_title, n, mean)
        .join(ratings, ratings.c.movie_id == movies.c.id)
        .group_by(movies.c.id, movies.c.movielens_title)
        .having(n > min_ratings)
        .order_by(first.desc(), second.desc(), movies.c.movielens_title)
        .limit(limit)
    )
    return [
        MovieRatings(movie_id=row.id, title=row.movielens_title, count=row.n, mean=float(row.mean))
        for row in conn.execute(query)
    ]


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
    return list(conn.execute(query).scalars())


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
    return list(conn.execute(query).scalars())


def movies_without_tmdb_id(conn: Connection) -> list[tuple[int, str]]:
    """(id, MovieLens title) of the movies no TMDB id is known for."""
    query = (
        select(movies.c.id, movies.c.movielens_title)
        .where(movies.c.tmdb_id.is_(None))
        .order_by(movies.c.id)
    )
    return [(row.id, row.movielens_title) for row in conn.execute(query)]


def tmdb_ids(conn: Connection) -> dict[int, int]:
    """``movie id -> TMDB id`` for every movie that has one; what enrichment fetches."""
    query = select(movies.c.id, movies.c.tmdb_id).where(movies.c.tmdb_id.is_not(None))
    return {row.id: row.tmdb_id for row in conn.execute(query)}
