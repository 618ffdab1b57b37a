"""Aggregate read queries behind the data report and TMDB enrichment.

Each query aggregates in the database and returns a few hundred rows at most, so the report
costs the same whatever the number of ratings.
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
