"""Ratings queries: the training hand-off (a whole frame) and the per-request reads and writes.

Serving folds a user in from their current ratings on every request, so the per-user read is
on the hot path and returns arrays, not rows. A user with many ratings has them packed into one
row (``user_rating_vectors``), which the writers here keep current and the read returns as
stored; the read aggregates ``ratings`` for everyone else, and whenever that row missed a write.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import ExitStack, closing
from dataclasses import dataclass
from enum import Enum
from functools import partial
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
    text,
)

from data.catalog import upsert
from data.db import BINARY_RESULTS, PointRead, Row
from data.schema import ratings, user_rating_vectors

# A user's ratings as (movie ids int64, ratings float32, rated_at int64 Unix seconds).
Arrays = tuple[np.ndarray, np.ndarray, np.ndarray]


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
# Built once, like ``data.tokens``' statement. The times are a second aggregate over the same
# rows, not a second number in each row's text: one scan hands each row to both aggregates in
# turn, so the i-th time is the i-th rating's, and the database skips a concatenation per row
# (SQLite, 30,000 ratings: 14.0 against 28.8 ms). Packing a user's ratings reads them this way.
_AGGREGATED = (
    func.aggregate_strings(_PACKED_RATING, ","),
    func.aggregate_strings(cast(ratings.c.rated_at, String), ","),
)
_PACKED_RATINGS = select(*_AGGREGATED).where(ratings.c.user_id == bindparam("user_id"))

# A user with at least this many ratings has them packed into ``user_rating_vectors`` (by the
# ETL, and by their own next write). At this count the aggregate is already cheap (SQLite, load
# 4: 0.7-1.3 ms p50 against 0.06-0.13 ms packed, ``bench/user_read.py``), and each user packed
# costs the ETL (at ML-25M shape it packs 2,115 of 162,541 users from here, 2.7 s of CPU on
# SQLite). A packed row also makes each re-rating rewrite it (0.8-1.7 against 0.4-1.0 ms at
# this count).
VECTOR_MIN_RATINGS = 1000

# The packed layout of n ratings ordered by movie id: n rated_at as little-endian int64, then n
# movie ids as little-endian int32 (``ratings.movie_id`` is a 32-bit integer), then n ratings
# times two as uint8: 13 bytes a rating, each array aligned for its type, each read by NumPy
# straight from the bytes (``np.frombuffer``).
_RATING_BYTES = 8 + 4 + 1
_TIMES, _MOVIES, _STARS = np.dtype("<i8"), np.dtype("<i4"), np.dtype("u1")


def pack_ratings(movie_ids: np.ndarray, stars: np.ndarray, rated_at: np.ndarray) -> bytes:
    """A user's ratings (movie ids, ratings in half stars as floats, Unix seconds) in the packed
    layout above, ordered by movie id."""
    order = np.argsort(movie_ids, kind="stable")
    return b"".join(
        (
            rated_at[order].astype(_TIMES).tobytes(),
            movie_ids[order].astype(_MOVIES).tobytes(),
            (stars[order] * 2).astype(_STARS).tobytes(),
        )
    )


def unpack_ratings(packed: bytes) -> Arrays:
    """``pack_ratings``' bytes as (movie ids int64, ratings float32, rated_at int64)."""
    count, rest = divmod(len(packed), _RATING_BYTES)
    if rest:
        raise ValueError(f"packed ratings are {_RATING_BYTES} bytes each, got {len(packed)} bytes")
    rated_at = np.frombuffer(packed, _TIMES, count).astype(np.int64)
    movie_ids = np.frombuffer(packed, _MOVIES, count, 8 * count).astype(np.int64)
    stars = np.frombuffer(packed, _STARS, count, 12 * count).astype(np.float32) / 2
    return movie_ids, stars, rated_at


def user_rating_arrays(conn: Connection, user_id: int) -> Arrays:
    """A user's current ratings as (movie ids int64, ratings float32, rated_at int64 Unix
    seconds): the recommender's input (its rating model uses when each rating was given).

    One statement: the user's packed row when it holds every write (``user_rating_vectors``),
    and only otherwise the ratings aggregated into one string of packed integers and one of
    times (see ``_READ``). Either way one row crosses the driver and no Python object is made
    per rating: reading SQLAlchemy rows cost 5.3 ms for a user with 2,698 ratings, and grows with
    the count (see the README's "Scale" section).
    """
    statement = _READ[conn.dialect.name]
    packed, aggregated = conn.exec_driver_sql(statement, _params(conn, user_id), _BINARY).one()
    if packed is not None:
        return unpack_ratings(packed)
    return _parse_aggregate(aggregated)


def aggregated_rating_arrays(conn: Connection, user_id: int) -> Arrays:
    """``user_rating_arrays`` aggregated from ``ratings``, never from the packed row: what
    packing reads, and the reference ``bench/user_read.py`` times the packed read against."""
    return _parse_strings(*conn.execute(_PACKED_RATINGS, {"user_id": user_id}).one())


def _parse_aggregate(text: str | None) -> Arrays:
    """``_READ``'s aggregate, packed integers, a ';', then the times (None: no ratings), as
    arrays."""
    packed, _, rated_at = (text or "").partition(";")
    return _parse_strings(packed, rated_at)


def _parse_strings(packed: str | None, rated_at: str | None) -> Arrays:
    """The two aggregated strings (packed integers, times; None: no ratings) as arrays: the
    one parse behind every aggregated read."""
    return (*_split(_integers(packed)), _integers(rated_at))


def _split(packed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Packed ratings as (movie ids int64, ratings float32)."""
    stars = (packed & ((1 << RATING_BITS) - 1)).astype(np.float32) / 2
    return packed >> RATING_BITS, stars


def _integers(text: str | None) -> np.ndarray:
    """A comma-separated string of integers (None: none) as int64, parsed in C."""
    return np.fromstring(text or "", dtype=np.int64, sep=",")


# The request path's reads. Each is one statement, so one snapshot on both databases: the packed
# row is trusted only when no write since it was packed (``stale_writes = 0``), and only when it
# is not, a CASE runs the aggregate over ``ratings`` instead (both databases evaluate a CASE's
# subquery only when its branch is taken: SQLite's scalar subqueries run when first reached,
# PostgreSQL's InitPlans when first referenced). A user without a packed row pays a key look-up
# more than before (two on PostgreSQL, which plans the packed row's subquery once for each
# use). Every recommendation runs one of these, so they are the dialect's own SQL, run with
# ``exec_driver_sql``: SQLAlchemy's compiled-statement path cost more than the statement (user
# 1, CPU per call with the pool checkout: 334 against 202 us on SQLite, 742 against 504 us on
# PostgreSQL), and this keeps the engine's events (metrics, the statement counts of
# tests/graph/test_query_counts.py), which the bare driver would skip.
# PostgreSQL sends the packed row as its bytes (``data.db.BINARY_RESULTS``).
_BINARY = {BINARY_RESULTS: True}
_SCALE = 1 << RATING_BITS
_KEY = {"sqlite": "?1", "postgresql": "%(user_id)s"}
_PACKED_TEXT = {
    "sqlite": f"CAST(movie_id * {_SCALE} + CAST(rating * 2 AS INTEGER) AS TEXT)",
    "postgresql": f"(movie_id::bigint * {_SCALE} + (rating * 2)::integer)::text",
}
_AGGREGATE = {"sqlite": "group_concat({}, ',')", "postgresql": "string_agg({}, ',')"}
_TIME_TEXT = {"sqlite": "CAST(rated_at AS TEXT)", "postgresql": "rated_at::text"}


def _statements(dialect: str) -> tuple[str, str]:
    """(``_READ``, ``_RANKING_INPUTS``) in ``dialect``'s SQL."""
    key, aggregate = _KEY[dialect], _AGGREGATE[dialect].format
    vector = (
        "FROM (SELECT (SELECT ratings FROM user_rating_vectors "
        f"WHERE user_id = {key} AND stale_writes = 0) AS ratings) AS vector"
    )
    packed = f"SELECT {aggregate(_PACKED_TEXT[dialect])} FROM ratings WHERE user_id = {key}"
    # The times of the same scan, after a ';': one scalar subquery returns one value.
    with_times = (
        f"SELECT {aggregate(_PACKED_TEXT[dialect])} || ';' || {aggregate(_TIME_TEXT[dialect])} "
        f"FROM ratings WHERE user_id = {key}"
    )
    read = (
        f"SELECT vector.ratings, CASE WHEN vector.ratings IS NULL THEN ({with_times}) END {vector}"
    )
    movie_text = "CAST(movie_id AS TEXT)" if dialect == "sqlite" else "movie_id::text"
    ranking = (
        f"SELECT (SELECT version FROM user_versions WHERE user_id = {key}), vector.ratings, "
        f"CASE WHEN vector.ratings IS NULL THEN ({packed}) END, "
        f"(SELECT {aggregate(movie_text)} FROM watchlist WHERE user_id = {key}) {vector}"
    )
    return read, ranking


_READ = {dialect: _statements(dialect)[0] for dialect in _KEY}
_RANKING_INPUTS = {dialect: _statements(dialect)[1] for dialect in _KEY}
_VERSION = {
    "sqlite": "SELECT version FROM user_versions WHERE user_id = :user_id",
    "postgresql": "SELECT version FROM user_versions WHERE user_id = %(user_id)s",
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


def ranking_version(user_id: int) -> PointRead[int | None]:
    """The version of a user's ranking inputs (``RankingInputs.version``): one row by key; a
    ``PointRead``, so the request path reads it on the event loop when it can."""
    return PointRead(_VERSION, {"user_id": user_id}, _first_int)


def _first_int(row: Row | None) -> int | None:
    return None if row is None else int(row[0])


def ranking_inputs(conn: Connection, user_id: int) -> RankingInputs:
    """A user's ``RankingInputs``, in one statement (with the version, which the ranking cache
    keys on, from the same snapshot as the ratings)."""
    statement = _RANKING_INPUTS[conn.dialect.name]
    found = conn.exec_driver_sql(statement, _params(conn, user_id), _BINARY).one()
    version, vector, packed, saved = found
    if vector is not None:
        movie_ids, stars, _ = unpack_ratings(vector)
    else:
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
# 786-979 us). One row, it is also a ``PointRead``, which the event loop can await. SQLite keeps
# rows: its ``group_concat`` takes an ORDER BY only from 3.44.
_RATED_MOVIES_PACKED = {
    "postgresql": (
        "SELECT string_agg(movie_id::text, ',' ORDER BY rated_at, movie_id) FROM ratings "
        "WHERE user_id = %(user_id)s"
    )
}


def user_rated_movie_ids(conn: Connection, user_id: int) -> list[int]:
    """The movies a user has rated, each once, in the order they were rated."""
    if conn.dialect.name in _RATED_MOVIES_PACKED:
        return rated_movie_ids_packed(user_id)(conn)
    return list(conn.execute(_RATED_MOVIES, {"user_id": user_id}).scalars().all())


def rated_movie_ids_packed(user_id: int) -> PointRead[list[int]]:
    """``user_rated_movie_ids`` as one row, where the store packs it (PostgreSQL only)."""
    return PointRead(_RATED_MOVIES_PACKED, {"user_id": user_id}, _packed_ids)


def _packed_ids(row: Row | None) -> list[int]:
    movie_ids: list[int] = _integers(None if row is None else row[0]).tolist()
    return movie_ids


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
    _keep_packed(conn, user_id, partial(_with_rating, movie_id, rating, rated_at))


def remove_rating(conn: Connection, user_id: int, movie_id: int) -> bool:
    """Delete a user's rating of a movie; True when there was one."""
    result = conn.execute(
        delete(ratings).where(ratings.c.user_id == user_id, ratings.c.movie_id == movie_id)
    )
    if result.rowcount == 0:
        return False
    _keep_packed(conn, user_id, partial(_without_rating, movie_id))
    return True


# After a write to one user's ratings: their packed row's count of writes it does not hold, the
# row, and only when they have none, how many ratings they have (is one now worth packing?).
_PACKED_STATE = text(
    "SELECT vector.stale_writes, vector.ratings, CASE WHEN vector.user_id IS NULL THEN "
    "(SELECT count(*) FROM ratings WHERE user_id = :user_id) END FROM (SELECT 1 AS one) AS one "
    "LEFT JOIN user_rating_vectors AS vector ON vector.user_id = :user_id"
)


def _keep_packed(conn: Connection, user_id: int, fold: Callable[[Arrays], Arrays | None]) -> None:
    """Bring the user's packed ratings up to date after one write to their ratings, in the
    write's transaction, and pack them when they now have ``VECTOR_MIN_RATINGS``.

    Called after the write: its statement's trigger counted it in ``stale_writes`` (migration
    0008), so 1 means the row missed only this write, and ``fold`` applies it to the unpacked
    arrays (a re-rating of a user with 30,000 ratings on SQLite: 1.3-3.8 ms p50 folded in,
    21.6-28.0 ms aggregated and packed again; ``bench/user_read.py`` at load 3). Any other count
    means something else wrote too (raw SQL, a cascade, a writer that does not know the row):
    the ratings are aggregated and packed again. No other writer of the user can slip in
    between: SQLite runs one writing transaction at a time, and on PostgreSQL the write's
    statement returns only once its ``user_versions`` trigger (migration 0007) holds the user's
    version row, which another writer of the user holds until it commits; the statements here
    then see that commit (READ COMMITTED takes a snapshot per statement).
    """
    state = conn.execute(_PACKED_STATE, {"user_id": user_id}, execution_options=_BINARY).one()
    stale_writes, packed, count = state
    if packed is None and count < VECTOR_MIN_RATINGS:
        return
    folded = fold(unpack_ratings(packed)) if packed is not None and stale_writes == 1 else None
    arrays = folded if folded is not None else aggregated_rating_arrays(conn, user_id)
    _store_packed(conn, {user_id: pack_ratings(*arrays)})


def _store_packed(conn: Connection, packed: dict[int, bytes]) -> None:
    """Packed rows that hold every write, by user id."""
    rows = [
        {"user_id": user, "stale_writes": 0, "ratings": value} for user, value in packed.items()
    ]
    upsert(
        conn, user_rating_vectors, rows, key=["user_id"], update_columns=["stale_writes", "ratings"]
    )


def _with_rating(movie_id: int, rating: float, rated_at: int, arrays: Arrays) -> Arrays:
    """``arrays`` (ordered by movie id) with the movie's rating set: replaced or inserted."""
    movie_ids, stars, times = arrays
    at = int(np.searchsorted(movie_ids, movie_id))
    if at < len(movie_ids) and movie_ids[at] == movie_id:
        stars[at], times[at] = rating, rated_at
        return movie_ids, stars, times
    return (
        np.insert(movie_ids, at, movie_id),
        np.insert(stars, at, rating),
        np.insert(times, at, rated_at),
    )


def _without_rating(movie_id: int, arrays: Arrays) -> Arrays | None:
    """``arrays`` without the movie's rating; None when they do not hold it (then they did not
    match the ratings the write deleted it from)."""
    movie_ids, stars, times = arrays
    at = int(np.searchsorted(movie_ids, movie_id))
    if at == len(movie_ids) or movie_ids[at] != movie_id:
        return None
    return np.delete(movie_ids, at), np.delete(stars, at), np.delete(times, at)


# Every packed row, and whether it holds every write.
_PACKED_ROWS = select(user_rating_vectors.c.user_id, user_rating_vectors.c.stale_writes == 0)
# Users per statement when packing: well under SQLite's bound-parameter limit. Their ratings
# aggregated as ``_PACKED_RATINGS`` aggregates one user's.
PACK_USERS = 500
_USERS_RATINGS = (
    select(ratings.c.user_id, *_AGGREGATED)
    .where(ratings.c.user_id.in_(bindparam("user_ids", expanding=True)))
    .group_by(ratings.c.user_id)
)


def pack_users(conn: Connection, heavy: Iterable[int]) -> int:
    """Pack the ratings of the users in ``heavy`` that have no packed row holding every write,
    and of every user whose packed row misses writes (deleting the rows of those left without
    ratings, a deleted account's among them); returns how many users that was.

    The ETL calls it once its ratings are written, with the users its input holds
    ``VECTOR_MIN_RATINGS`` ratings of: its merge counted as a write of every user it touched,
    or, into an empty table, ran without the triggers and left no packed row. The caller names
    the heavy users because counting every user's ratings here reads every rating: the ETL's
    packing step took 4.9 s of CPU that way at ML-25M shape on SQLite, 2.7 s without.
    """
    packed_rows = {int(user_id): bool(holds) for user_id, holds in conn.execute(_PACKED_ROWS)}
    stale = {user_id for user_id, holds_every_write in packed_rows.items() if not holds_every_write}
    user_ids = sorted(stale | {user_id for user_id in heavy if user_id not in packed_rows})
    for start in range(0, len(user_ids), PACK_USERS):
        batch = user_ids[start : start + PACK_USERS]
        packed = {
            user_id: pack_ratings(*_parse_strings(stars, rated_at))
            for user_id, stars, rated_at in conn.execute(_USERS_RATINGS, {"user_ids": batch})
        }
        _store_packed(conn, packed)
        # A user the aggregate does not return has no ratings left (or no account): no row.
        if gone := [user_id for user_id in batch if user_id not in packed]:
            conn.execute(delete(user_rating_vectors).where(user_rating_vectors.c.user_id.in_(gone)))
    return len(user_ids)
