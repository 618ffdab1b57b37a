"""Ratings queries: the training hand-off (a whole frame) and the per-request reads and writes.

Serving folds a user in from their current ratings on every request, so the per-user read is
on the hot path and returns arrays, not rows.
"""

from __future__ import annotations

from contextlib import ExitStack, closing
from dataclasses import dataclass
from enum import Enum
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import (
    BigInteger,
    Connection,
    Integer,
    String,
    bindparam,
    cast,
    delete,
    func,
    select,
)

from data.catalog import upsert
from data.schema import ratings


class RatingOrder(Enum):
    RECENT = "recent"
    OLDEST = "oldest"
    HIGHEST = "highest"
    LOWEST = "lowest"


@dataclass(frozen=True, slots=True)
class RatingRow:
    user_id: int
    movie_id: int
    rating: float
    rated_at: int


# A rating is a half star, so twice it fits in 4 bits: a row travels as one integer,
# ``movie_id * 16 + rating * 2``.
RATING_BITS = 4


_PACKED_RATING = cast(
    cast(ratings.c.movie_id, BigInteger) * (1 << RATING_BITS) + cast(ratings.c.rating * 2, Integer),
    String,
)
# Built once, like ``data.tokens``' statement: every recommendation runs it, and building it
# anew cost four times its execution (about 260 of 330 microseconds of CPU on SQLite).
# The times are a second aggregate over the same rows, not a second number in each row's text:
# one scan hands each row to both aggregates in turn, so the i-th time is the i-th rating's,
# and the database skips a concatenation per row (SQLite, 30,000 ratings: 14.0 against 28.8 ms).
_PACKED_RATINGS = select(
    func.aggregate_strings(_PACKED_RATING, ","),
    func.aggregate_strings(cast(ratings.c.rated_at, String), ","),
).where(ratings.c.user_id == bindparam("user_id"))


def user_rating_arrays(conn: Connection, user_id: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A user's current ratings as (movie ids int64, ratings float32, rated_at int64 Unix
    seconds): the recommender's input (its rating model uses when each rating was given).

    The database packs every rating into one integer and joins them into one comma-separated
    string (``group_concat`` / ``string_agg``), their times into another, which NumPy parses
    in C: one row crosses the driver, and no Python object is made per rating. Reading
    SQLAlchemy rows cost 5.3 ms for a user with 2,698 ratings, and grows with the count (see
    the README's "Scale" section).
    """
    packed, rated_at = conn.execute(_PACKED_RATINGS, {"user_id": user_id}).one()
    return (*_split(_integers(packed)), _integers(rated_at))


def _split(packed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Packed ratings as (movie ids int64, ratings float32)."""
    stars = (packed & ((1 << RATING_BITS) - 1)).astype(np.float32) / 2
    return packed >> RATING_BITS, stars


def _integers(text: str | None) -> np.ndarray:
    """A comma-separated string of integers (None: none) as int64, parsed in C."""
    return np.fromstring(text or "", dtype=np.int64, sep=",")


# A ranking's inputs in one statement (one round trip, not two): the user's version of them
# (``user_versions``, which triggers change with every write to either table), the packed
# ratings without their times (the ranking does not read them, and leaving them out cut the
# statement's CPU on SQLite to a third: 60 against 191 us for 232 ratings) and the ids of the
# movies the user saved to their watchlist, each comma-separated. One statement is one snapshot
# on both databases, so the version read is the version of exactly these inputs. Every
# recommendation runs one of these, so they are the dialect's own SQL, run with
# ``exec_driver_sql``: SQLAlchemy's compiled-statement path cost more than the statement (user 1,
# CPU per call with the pool checkout: 334 against 202 us on SQLite, 742 against 504 us on
# PostgreSQL), and this keeps the engine's events (metrics, the statement counts of
# tests/graph/test_query_counts.py), which the bare driver would skip.
_SCALE = 1 << RATING_BITS
_VERSION = {
    "sqlite": "SELECT version FROM user_versions WHERE user_id = ?1",
    "postgresql": "SELECT version FROM user_versions WHERE user_id = %(user_id)s",
}
_RANKING_INPUTS = {
    "sqlite": (
        "SELECT (SELECT version FROM user_versions WHERE user_id = ?1), "
        f"(SELECT group_concat(CAST(movie_id * {_SCALE} + CAST(rating * 2 AS INTEGER) "
        "AS TEXT), ',') FROM ratings WHERE user_id = ?1), "
        "(SELECT group_concat(CAST(movie_id AS TEXT), ',') FROM watchlist WHERE user_id = ?1)"
    ),
    "postgresql": (
        "SELECT (SELECT version FROM user_versions WHERE user_id = %(user_id)s), "
        f"(SELECT string_agg((movie_id::bigint * {_SCALE} + (rating * 2)::integer)::text, "
        "',') FROM ratings WHERE user_id = %(user_id)s), "
        "(SELECT string_agg(movie_id::text, ',') FROM watchlist WHERE user_id = %(user_id)s)"
    ),
}


@dataclass(frozen=True, slots=True)
class RankingInputs:
    """What a user's recommendations are ranked from: the movies they rated (int64), their
    ratings of them (float32; not when each was given, which ranking does not use), the movies
    saved to their watchlist (int64, which the ranking leaves out), and ``version``, which
    changes with every write to the ratings or watchlist (None: the user never had either)."""

    version: int | None
    movie_ids: np.ndarray
    ratings: np.ndarray
    saved: np.ndarray


def _params(conn: Connection, user_id: int) -> tuple[int] | dict[str, int]:
    return (user_id,) if conn.dialect.name == "sqlite" else {"user_id": user_id}


def ranking_version(conn: Connection, user_id: int) -> int | None:
    """The version of a user's ranking inputs (``RankingInputs.version``): one row by key."""
    row = conn.exec_driver_sql(_VERSION[conn.dialect.name], _params(conn, user_id)).first()
    return None if row is None else int(row[0])


def ranking_inputs(conn: Connection, user_id: int) -> RankingInputs:
    """A user's ``RankingInputs``, in one statement."""
    statement = _RANKING_INPUTS[conn.dialect.name]
    version, packed, saved = conn.exec_driver_sql(statement, _params(conn, user_id)).one()
    movie_ids, stars = _split(_integers(packed))
    return RankingInputs(version, movie_ids, stars, _integers(saved))


# Users per batch of ``ratings_frame``: each batch's strings are parsed into arrays and dropped,
# so memory holds the arrays (28 bytes a rating), not every rating's text at once.
FRAME_USERS = 4096
# Every rating, one row per user: how many, then each rating packed as in ``_RANKING_INPUTS``
# and followed by its time, all comma-separated. A row per rating made a Python tuple and four
# numbers per rating; NumPy parses the strings in C (see the README's "Scale" section).
_EVERY_RATING = {
    "sqlite": (
        f"SELECT user_id, count(*), group_concat((movie_id * {_SCALE} "
        "+ CAST(rating * 2 AS INTEGER)) || ',' || rated_at, ',') FROM ratings GROUP BY user_id"
    ),
    "postgresql": (
        f"SELECT user_id, count(*), string_agg((movie_id::bigint * {_SCALE} "
        "+ (rating * 2)::integer)::text || ',' || rated_at::text, ',') FROM ratings "
        "GROUP BY user_id"
    ),
}


def ratings_frame(conn: Connection) -> pd.DataFrame:
    """Every rating as a frame with columns ``user_id, movie_id, rating, timestamp``.

    This is the hand-off to the recommender, which takes frames and arrays, never a session.
    Rows are ordered by user then time (then movie) so that temporal splits need no further
    sort. The database aggregates each user's ratings into one string (``_EVERY_RATING``), read
    through the driver's own cursor (SQLAlchemy's rows cost 13 times the query on 100,836
    rows), on PostgreSQL a server-side one so the server sends them as they are read, and NumPy
    parses them in C: no Python object is made per rating. No ORDER BY: on SQLite a walk
    through the time index looked every rating up in the table; NumPy sorts instead.
    """
    driver: Any = conn.connection.driver_connection
    parts: dict[str, list[np.ndarray]] = {name: [] for name in _FRAME_TYPES}
    with ExitStack() as stack:
        if conn.dialect.name == "postgresql":
            # A server-side cursor lives in a transaction (a savepoint when one is open).
            stack.enter_context(driver.transaction())
            cursor = stack.enter_context(driver.cursor(name="movierec_ratings_frame"))
        else:
            cursor = stack.enter_context(closing(driver.cursor()))
        cursor.execute(_EVERY_RATING[conn.dialect.name])
        while rows := cursor.fetchmany(FRAME_USERS):
            users, counts, texts = zip(*rows, strict=True)
            values = _integers(",".join(texts)).reshape(-1, 2)
            movie_id, rating = _split(values[:, 0])
            parts["user_id"].append(np.repeat(np.array(users, dtype=np.int64), counts))
            parts["movie_id"].append(movie_id)
            parts["rating"].append(rating)
            parts["timestamp"].append(values[:, 1].copy())
    columns = {
        name: np.concatenate([np.empty(0, dtype=dtype), *parts.pop(name)])
        for name, dtype in _FRAME_TYPES.items()
    }
    order = _by_user_time_movie(columns["user_id"], columns["movie_id"], columns["timestamp"])
    # Column by column, each unordered array dropped as its ordered copy is made.
    for name in columns:
        columns[name] = columns[name][order]
    return pd.DataFrame(columns, copy=False)


_FRAME_TYPES = {
    "user_id": np.int64,
    "movie_id": np.int64,
    "rating": np.float32,
    "timestamp": np.int64,
}


def _by_user_time_movie(
    user_id: np.ndarray, movie_id: np.ndarray, timestamp: np.ndarray
) -> np.ndarray:
    """The positions that order the ratings by user, then time, then movie.

    Both stores usually return the ratings in their key's order (user, then movie): then one
    stable sort by (user, time), packed into one integer, keeps movie order among ties (at
    ML-25M shape about a tenth of ``np.lexsort``'s three keys). Otherwise a stable sort by movie
    comes first, and a span too wide to pack falls back to ``np.lexsort``.
    """
    if len(user_id) == 0:
        return np.empty(0, dtype=np.int64)
    first_user, first_time = int(user_id.min()), int(timestamp.min())
    times = int(timestamp.max()) - first_time + 1
    if (int(user_id.max()) - first_user + 1) * times >= 1 << 63:
        return np.lexsort((movie_id, timestamp, user_id))
    step_user, step_movie = np.diff(user_id), np.diff(movie_id)
    if np.all((step_user > 0) | ((step_user == 0) & (step_movie > 0))):
        key = (user_id - first_user) * times + (timestamp - first_time)
        return np.argsort(key, kind="stable")
    by_movie = np.argsort(movie_id, kind="stable")
    key = (user_id[by_movie] - first_user) * times + (timestamp[by_movie] - first_time)
    return by_movie[np.argsort(key, kind="stable")]


# Built once, for the legacy /user/<id>/movies path, like _PACKED_RATINGS.
_RATED_MOVIES = (
    select(ratings.c.movie_id)
    .where(ratings.c.user_id == bindparam("user_id"))
    .order_by(ratings.c.rated_at, ratings.c.movie_id)
)


# The same list on PostgreSQL as one string: psycopg builds each result row in Python, so 232
# rows cost the worker about twice what SQLite's C rows do; one ordered ``string_agg`` parsed by
# NumPy cut the call to about 0.6 of that (user 1, pool checkout included: 484-632 against
# 786-979 us). SQLite keeps rows: its ``group_concat`` takes an ORDER BY only from 3.44.
_RATED_MOVIES_PACKED = (
    "SELECT string_agg(movie_id::text, ',' ORDER BY rated_at, movie_id) FROM ratings "
    "WHERE user_id = %(user_id)s"
)


def user_rated_movie_ids(conn: Connection, user_id: int) -> list[int]:
    """The movies a user has rated, each once, in the order they were rated."""
    if conn.dialect.name == "postgresql":
        packed = conn.exec_driver_sql(_RATED_MOVIES_PACKED, {"user_id": user_id}).scalar_one()
        movie_ids: list[int] = _integers(packed).tolist()
        return movie_ids
    return list(conn.execute(_RATED_MOVIES, {"user_id": user_id}).scalars().all())


def user_ratings_page(
    conn: Connection, user_id: int, *, order: RatingOrder, limit: int, offset: int
) -> tuple[list[RatingRow], int]:
    """One page of a user's ratings and their total count; ties broken by movie id."""
    order_by = {
        RatingOrder.RECENT: (ratings.c.rated_at.desc(),),
        RatingOrder.OLDEST: (ratings.c.rated_at.asc(),),
        RatingOrder.HIGHEST: (ratings.c.rating.desc(), ratings.c.rated_at.desc()),
        RatingOrder.LOWEST: (ratings.c.rating.asc(), ratings.c.rated_at.desc()),
    }[order]
    query = (
        select(ratings.c.user_id, ratings.c.movie_id, ratings.c.rating, ratings.c.rated_at)
        .where(ratings.c.user_id == user_id)
        .order_by(*order_by, ratings.c.movie_id)
        .limit(limit)
        .offset(offset)
    )
    rows = [RatingRow(*row) for row in conn.execute(query).all()]
    return rows, rating_counts(conn, [user_id])[user_id]


def rating_counts(conn: Connection, user_ids: list[int]) -> dict[int, int]:
    """How many movies each user has rated (0 for users without ratings)."""
    query = (
        select(ratings.c.user_id, func.count())
        .where(ratings.c.user_id.in_(user_ids))
        .group_by(ratings.c.user_id)
    )
    found = {int(user): int(count) for user, count in conn.execute(query)}
    return {user_id: int(found.get(user_id, 0)) for user_id in user_ids}


def user_ratings_for(conn: Connection, user_id: int, movie_ids: list[int]) -> dict[int, float]:
    """A user's rating of each of ``movie_ids`` that they rated."""
    query = select(ratings.c.movie_id, ratings.c.rating).where(
        ratings.c.user_id == user_id, ratings.c.movie_id.in_(movie_ids)
    )
    return dict(conn.execute(query).all())


def set_rating(conn: Connection, user_id: int, movie_id: int, rating: float, rated_at: int) -> None:
    """Insert or replace a user's rating of a movie (the latest write wins).

    One ``INSERT ... ON CONFLICT``: a delete-then-insert lets two concurrent first ratings of the
    same movie (a double tap, two devices) both find no row on PostgreSQL and then collide.
    """
    row = {"user_id": user_id, "movie_id": movie_id, "rating": rating, "rated_at": rated_at}
    upsert(conn, ratings, [row], key=["user_id", "movie_id"], update_columns=["rating", "rated_at"])


def remove_rating(conn: Connection, user_id: int, movie_id: int) -> bool:
    """Delete a user's rating of a movie; True when there was one."""
    result = conn.execute(
        delete(ratings).where(ratings.c.user_id == user_id, ratings.c.movie_id == movie_id)
    )
    return result.rowcount > 0
