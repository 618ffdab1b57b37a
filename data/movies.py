"""Movie read queries the API needs: rows by id, genres, search pages and the home-screen rails.

Every function takes a Connection and returns plain values, so the API's services, its
DataLoaders and the legacy shim share one implementation of each query.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import Enum

from sqlalchemy import Connection, Select, func, select

from data.schema import genres, movie_genres, movies, ratings


@dataclass(frozen=True, slots=True)
class MovieRow:
    """One movie with its genres in MovieLens order; immutable between ETL runs."""

    id: int
    title: str
    movielens_title: str
    year: int | None
    genres: tuple[str, ...]
    original_title: str | None
    overview: str | None
    poster_path: str | None
    backdrop_path: str | None
    imdb_id: str | None
    tmdb_id: int | None


@dataclass(frozen=True, slots=True)
class RatingStats:
    average: float | None
    count: int


class MovieOrder(Enum):
    POPULARITY = "popularity"
    TITLE = "title"
    YEAR = "year"
    RATING = "rating"


def movies_by_ids(conn: Connection, ids: Iterable[int]) -> dict[int, MovieRow]:
    """Movies keyed by id (unknown ids are absent), in two statements whatever the count."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = conn.execute(select(movies).where(movies.c.id.in_(wanted))).all()
    names = genres_by_movie(conn, wanted)
    return {
        row.id: MovieRow(
            id=row.id,
            title=row.title,
            movielens_title=row.movielens_title,
            year=row.year,
            genres=names.get(row.id, ()),
            original_title=row.original_title,
            overview=row.overview,
            poster_path=row.poster_path,
            backdrop_path=row.backdrop_path,
            imdb_id=row.imdb_id,
            tmdb_id=row.tmdb_id,
        )
        for row in rows
    }


def genres_by_movie(conn: Connection, ids: Sequence[int]) -> dict[int, tuple[str, ...]]:
    """Genre names per movie in MovieLens order (``movie_genres.position``)."""
    query = (
        select(movie_genres.c.movie_id, genres.c.name)
        .join(genres, genres.c.id == movie_genres.c.genre_id)
        .where(movie_genres.c.movie_id.in_(ids))
        .order_by(movie_genres.c.movie_id, movie_genres.c.position)
    )
    found: dict[int, list[str]] = {}
    for movie_id, name in conn.execute(query):
        found.setdefault(movie_id, []).append(name)
    return {movie_id: tuple(names) for movie_id, names in found.items()}


def genre_names(conn: Connection) -> list[str]:
    """Every genre that at least one movie has, alphabetically."""
    query = (
        select(genres.c.name)
        .where(genres.c.id.in_(select(movie_genres.c.genre_id)))
        .order_by(genres.c.name)
    )
    return list(conn.execute(query).scalars())


def movie_ids_in_genre(conn: Connection, name: str) -> list[int]:
    query = (
        select(movie_genres.c.movie_id)
        .join(genres, genres.c.id == movie_genres.c.genre_id)
        .where(genres.c.name == name)
    )
    return list(conn.execute(query).scalars())


def catalog_movie_ids(conn: Connection) -> list[int]:
    """Every movie id, ascending: the catalogue the recommender artifact is checked against."""
    return list(conn.execute(select(movies.c.id).order_by(movies.c.id)).scalars())


def existing_movie_id(conn: Connection, movie_id: int) -> bool:
    return conn.execute(select(movies.c.id).where(movies.c.id == movie_id)).first() is not None


def rating_stats(conn: Connection, ids: Iterable[int]) -> dict[int, RatingStats]:
    """Average and count of ratings per movie; movies without ratings get (None, 0)."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    query = (
        select(ratings.c.movie_id, func.avg(ratings.c.rating), func.count())
        .where(ratings.c.movie_id.in_(wanted))
        .group_by(ratings.c.movie_id)
    )
    found = {
        movie_id: RatingStats(float(avg), int(count))
        for movie_id, avg, count in conn.execute(query)
    }
    return {movie_id: found.get(movie_id, RatingStats(None, 0)) for movie_id in wanted}


def search_movies(
    conn: Connection,
    *,
    search: str | None,
    genre: str | None,
    order: MovieOrder,
    limit: int,
    offset: int,
) -> tuple[list[int], int]:
    """One page of movie ids matching a title search and genre, and the total match count.

    The search is a case-insensitive substring match on the title without the year and the
    original title; ties in every order fall back to the id so that pages never overlap.
    """
    stats = (
        select(
            ratings.c.movie_id,
            func.count().label("n"),
            func.avg(ratings.c.rating).label("avg"),
        )
        .group_by(ratings.c.movie_id)
        .subquery()
    )
    query: Select = select(movies.c.id).outerjoin(stats, stats.c.movie_id == movies.c.id)
    if search:
        pattern = f"%{_escape_like(search.lower())}%"
        query = query.where(
            func.lower(movies.c.title).like(pattern, escape="\\")
            | func.lower(movies.c.original_title).like(pattern, escape="\\")
        )
    if genre is not None:
        in_genre = (
            select(movie_genres.c.movie_id)
            .join(genres, genres.c.id == movie_genres.c.genre_id)
            .where(genres.c.name == genre)
        )
        query = query.where(movies.c.id.in_(in_genre))
    total = conn.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    order_by = {
        MovieOrder.POPULARITY: (func.coalesce(stats.c.n, 0).desc(),),
        MovieOrder.TITLE: (func.lower(movies.c.title),),
        MovieOrder.YEAR: (movies.c.year.is_(None), movies.c.year.desc()),
        MovieOrder.RATING: (stats.c.avg.is_(None), stats.c.avg.desc()),
    }[order]
    page = query.order_by(*order_by, movies.c.id).limit(limit).offset(offset)
    return list(conn.execute(page).scalars()), int(total)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def featured_movie_ids(conn: Connection, limit: int, *, prior_weight: int = 50) -> list[int]:
    """Movies by Bayesian-averaged rating: (sum + m * global mean) / (count + m).

    The prior pulls movies with few ratings towards the global mean, so a film rated 5.0 once
    does not outrank one rated 4.5 by three hundred people.
    """
    global_mean = conn.execute(select(func.avg(ratings.c.rating))).scalar()
    if global_mean is None:
        return []
    score = (func.sum(ratings.c.rating) + prior_weight * float(global_mean)) / (
        func.count() + prior_weight
    )
    query = (
        select(ratings.c.movie_id)
        .group_by(ratings.c.movie_id)
        .order_by(score.desc(), ratings.c.movie_id)
        .limit(limit)
    )
    return list(conn.execute(query).scalars())


def trending_movie_ids(conn: Connection, limit: int, *, window_seconds: int) -> list[int]:
    """Most-rated movies within ``window_seconds`` before the newest rating in the store.

    The window ends at the newest rating rather than at the wall clock because MovieLens is
    historical: relative to today nothing would be trending.
    """
    newest = conn.execute(select(func.max(ratings.c.rated_at))).scalar()
    if newest is None:
        return []
    query = (
        select(ratings.c.movie_id)
        .where(ratings.c.rated_at > newest - window_seconds)
        .group_by(ratings.c.movie_id)
        .order_by(func.count().desc(), func.max(ratings.c.rated_at).desc(), ratings.c.movie_id)
        .limit(limit)
    )
    return list(conn.execute(query).scalars())


def newly_added_movie_ids(conn: Connection, limit: int) -> list[int]:
    """Movies by their first rating, newest first: when a movie entered the catalogue in use.

    MovieLens has no "added" date; the first rating is the earliest moment anyone could see it,
    which is a better proxy than the id (ids are assigned in bulk, not in release order).
    """
    first_rated = func.min(ratings.c.rated_at)
    query = (
        select(ratings.c.movie_id)
        .group_by(ratings.c.movie_id)
        .order_by(first_rated.desc(), ratings.c.movie_id.desc())
        .limit(limit)
    )
    return list(conn.execute(query).scalars())
