"""Movie read queries the API needs: rows by id, genres, search fields and stats.

Every function takes a Connection and returns plain values, so the API's services, its
DataLoaders and the legacy shim share one implementation of each query.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Connection, select

from data.schema import genres, movie_genres, movie_rating_stats, movies
from data.titles import readable_title


@dataclass(frozen=True, slots=True)
class MovieRow:
    """One movie with its genres in MovieLens order; immutable between ETL runs.

    Its fields are the ``movies`` table's columns plus ``genres`` (a test holds them equal), and
    it is built from the row by name, so storing a new column is that column and one field here.
    """

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


def movies_by_ids(conn: Connection, ids: Iterable[int]) -> dict[int, MovieRow]:
    """Movies keyed by id (unknown ids are absent), in two statements whatever the count."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = conn.execute(select(movies).where(movies.c.id.in_(wanted))).all()
    names = genres_by_movie(conn, wanted)
    return {row.id: MovieRow(**row._mapping, genres=names.get(row.id, ())) for row in rows}


def genres_by_movie(conn: Connection, ids: Sequence[int]) -> dict[int, tuple[str, ...]]:
    """Genre names per movie in MovieLens order (``movie_genres.position``)."""
    query = (
        select(movie_genres.c.movie_id, genres.c.name)
        .join(genres, genres.c.id == movie_genres.c.genre_id)
        .where(movie_genres.c.movie_id.in_(ids))
        .order_by(movie_genres.c.movie_id, movie_genres.c.position)
    )
    found: dict[int, list[str]] = {}
    for movie_id, name in conn.execute(query).all():
        found.setdefault(movie_id, []).append(name)
    return {movie_id: tuple(names) for movie_id, names in found.items()}


def genre_names(conn: Connection) -> list[str]:
    """Every genre that at least one movie has, alphabetically."""
    query = (
        select(genres.c.name)
        .where(genres.c.id.in_(select(movie_genres.c.genre_id)))
        .order_by(genres.c.name)
    )
    return list(conn.execute(query).scalars().all())


def movie_ids_in_genre(conn: Connection, name: str) -> list[int]:
    query = (
        select(movie_genres.c.movie_id)
        .join(genres, genres.c.id == movie_genres.c.genre_id)
        .where(genres.c.name == name)
    )
    return list(conn.execute(query).scalars().all())


def catalog_movie_ids(conn: Connection) -> list[int]:
    """Every movie id, ascending: the catalog the recommender artifact is checked against."""
    return list(conn.execute(select(movies.c.id).order_by(movies.c.id)).scalars().all())


def existing_movie_id(conn: Connection, movie_id: int) -> bool:
    return conn.execute(select(movies.c.id).where(movies.c.id == movie_id)).first() is not None


def rating_stats(conn: Connection, ids: Iterable[int]) -> dict[int, RatingStats]:
    """Average and count of ratings per movie; movies without ratings get (None, 0)."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    found = _rating_stats(conn, movie_rating_stats.c.movie_id.in_(wanted))
    return {movie_id: found.get(movie_id, RatingStats(None, 0)) for movie_id in wanted}


def _rating_stats(conn: Connection, *where: ColumnElement[bool]) -> dict[int, RatingStats]:
    """Average and count per rated movie among those ``where`` selects (all without), from
    ``movie_rating_stats``: one row per movie, kept current by triggers on ``ratings``."""
    stats = movie_rating_stats.c
    query = select(stats.movie_id, stats.rating_sum, stats.rating_count).where(*where)
    return {
        movie_id: RatingStats(total / count, count)
        for movie_id, total, count in conn.execute(query).all()
    }


@dataclass(frozen=True, slots=True)
class SearchEntry:
    """What searching and sorting the catalog needs of a movie, lower-cased once."""

    id: int
    title: str
    display_title: str
    original_title: str
    year: int | None


def search_index(conn: Connection) -> list[SearchEntry]:
    """Every movie's searchable fields, by id; the display title so that "the godfather"
    finds "Godfather, The"."""
    query = select(movies.c.id, movies.c.title, movies.c.original_title, movies.c.year)
    return [
        SearchEntry(
            movie_id,
            title.lower(),
            readable_title(title).display.lower(),
            (original or "").lower(),
            year,
        )
        for movie_id, title, original, year in conn.execute(query.order_by(movies.c.id)).all()
    ]


def all_rating_stats(conn: Connection) -> dict[int, RatingStats]:
    """Average and count of ratings of every rated movie: one row per rated movie is read."""
    return _rating_stats(conn)
