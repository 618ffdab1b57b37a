"""The request path's read of one user's ratings into arrays."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from sqlalchemy import Engine, select

import data.ratings
from data import catalog
from data.db import open_store, reader
from data.ratings import (
    ranking_inputs,
    ranking_version,
    ratings_frame,
    user_rated_movie_ids,
    user_rating_arrays,
)
from data.schema import ratings
from data.watchlist import save
from tests.data.rows import bare_movie

# Past 2**31 / 16: the packed value outgrows a 32-bit integer.
BIG_ID = 200_000_000


def _store(engine: Engine, rows: list[tuple[int, int, float]], *, rated_at: int = 1) -> None:
    with engine.begin() as conn:
        catalog.merge_rows(
            conn, catalog.MOVIES, [bare_movie(m) for m in sorted({m for _, m, _ in rows})]
        )
        catalog.merge_rows(
            conn,
            catalog.DEMO_USERS,
            [
                {"id": u, "username": f"user{u}", "password_hash": "h", "is_demo": True}
                for u in sorted({u for u, _, _ in rows} | {3})
            ],
        )
        catalog.merge_rows(
            conn,
            catalog.RATINGS,
            [
                {"user_id": u, "movie_id": m, "rating": r, "rated_at": rated_at + m % 1000}
                for u, m, r in rows
            ],
        )


def test_every_half_star_and_large_movie_ids_come_back_exactly(engine: Engine) -> None:
    stars = [0.5 * s for s in range(1, 11)]
    mine = [(1, m, r) for m, r in zip([1, 2, 3, 4, 5, 6, 7, 8, 9, BIG_ID], stars, strict=True)]
    _store(engine, [*mine, (2, 1, 4.0), (2, 3, 1.5)])
    with engine.connect() as conn:
        movie_ids, values, rated_at = user_rating_arrays(conn, 1)
    assert (movie_ids.dtype, values.dtype, rated_at.dtype) == (np.int64, np.float32, np.int64)
    got = sorted(zip(movie_ids.tolist(), values.tolist(), rated_at.tolist(), strict=True))
    assert got == [(m, r, 1 + m % 1000) for _, m, r in mine]


def test_rating_times_past_2038_come_back_exactly(engine: Engine) -> None:
    later = 2**33  # past 32-bit seconds, as MovieLens-style Unix times will be
    _store(engine, [(1, 5, 4.0), (1, 6, 2.5)], rated_at=later)
    with engine.connect() as conn:
        movie_ids, _, rated_at = user_rating_arrays(conn, 1)
    assert sorted(zip(movie_ids.tolist(), rated_at.tolist(), strict=True)) == [
        (5, later + 5),
        (6, later + 6),
    ]


def test_a_user_without_ratings_gets_empty_arrays(engine: Engine) -> None:
    _store(engine, [(1, 1, 4.0)])
    with engine.connect() as conn:
        for user_id in (3, 999):
            movie_ids, values, rated_at = user_rating_arrays(conn, user_id)
            assert (movie_ids.dtype, values.dtype, rated_at.dtype) == (
                np.int64,
                np.float32,
                np.int64,
            )
            assert len(movie_ids) == len(values) == len(rated_at) == 0


def test_many_ratings_agree_with_the_rows(engine: Engine) -> None:
    rng = np.random.default_rng(1)
    movies = rng.choice(np.arange(1, 100_000), 3_000, replace=False)
    _store(engine, [(1, int(m), float(rng.integers(1, 11)) / 2) for m in movies])
    with engine.connect() as conn:
        movie_ids, values, rated_at = user_rating_arrays(conn, 1)
        rows = conn.execute(
            select(ratings.c.movie_id, ratings.c.rating, ratings.c.rated_at).where(
                ratings.c.user_id == 1
            )
        ).all()
    got = zip(movie_ids.tolist(), values.tolist(), rated_at.tolist(), strict=True)
    assert sorted(got) == sorted((m, r, t) for m, r, t in rows)


def test_a_ranking_reads_the_ratings_and_the_watchlist_in_one_statement(any_engine: Engine) -> None:
    stars = [0.5 * s for s in range(1, 11)]
    mine = [(1, m, r) for m, r in zip([1, 2, 3, 4, 5, 6, 7, 8, 9, BIG_ID], stars, strict=True)]
    _store(any_engine, [*mine, (2, 1, 4.0), (3, 2, 1.0)])
    with any_engine.begin() as conn:
        for movie_id in (BIG_ID, 7):
            save(conn, 1, movie_id, added_at=1)
        save(conn, 2, 5, added_at=1)
    with any_engine.connect() as conn:
        one = ranking_inputs(conn, 1)
        movie_ids, values, saved = one.movie_ids, one.ratings, one.saved
        assert (movie_ids.dtype, values.dtype, saved.dtype) == (np.int64, np.float32, np.int64)
        assert sorted(zip(movie_ids.tolist(), values.tolist(), strict=True)) == [
            (m, r) for _, m, r in mine
        ]
        assert sorted(saved.tolist()) == [7, BIG_ID]
        assert one.version is not None
        assert one.version == ranking_version(1)(conn), "the version read with the inputs"
        # Ratings and no watchlist; neither (an unknown user, who has no version either).
        three = ranking_inputs(conn, 3)
        assert [a.tolist() for a in (three.movie_ids, three.ratings, three.saved)] == [
            [2],
            [1.0],
            [],
        ]
        unknown = ranking_inputs(conn, 999)
        assert len(unknown.movie_ids) == len(unknown.ratings) == len(unknown.saved) == 0
        assert unknown.saved.dtype == unknown.movie_ids.dtype == np.int64
        assert unknown.version is None is ranking_version(999)(conn)


def test_rated_movies_come_in_the_order_they_were_rated_ties_by_movie(any_engine: Engine) -> None:
    """The legacy /user/<id>/movies list: one aggregated string on PostgreSQL, rows on SQLite."""
    times = {BIG_ID: 30, 5: 10, 9: 20, 2: 20, 7: 5}
    with any_engine.begin() as conn:
        catalog.merge_rows(conn, catalog.MOVIES, [bare_movie(m) for m in sorted(times)])
        catalog.merge_rows(
            conn,
            catalog.DEMO_USERS,
            [
                {"id": u, "username": f"user{u}", "password_hash": "h", "is_demo": True}
                for u in (1, 2)
            ],
        )
        catalog.merge_rows(
            conn,
            catalog.RATINGS,
            [{"user_id": 1, "movie_id": m, "rating": 3.0, "rated_at": t} for m, t in times.items()]
            + [{"user_id": 2, "movie_id": 5, "rating": 1.0, "rated_at": 1}],
        )
    for reads in (any_engine, reader(any_engine)):
        with reads.connect() as conn:
            assert user_rated_movie_ids(conn, 1) == [7, 5, 2, 9, BIG_ID]
            assert user_rated_movie_ids(conn, 2) == [5]
            assert user_rated_movie_ids(conn, 999) == []


@pytest.fixture(params=["sqlite", "postgresql"])
def any_engine(request: pytest.FixtureRequest, store_url: str) -> Iterator[Engine]:
    url = store_url if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    engine = open_store(url, create=True)
    yield engine
    engine.dispose()


def test_the_training_frame_is_every_rating_by_user_then_time_then_movie(
    any_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Read in batches (one user here), in a transaction or in autocommit (``reader``)."""
    monkeypatch.setattr(data.ratings, "FRAME_USERS", 1)
    # (user, movie, rating, time), written out of order: movie 3 of user 2 is rated first,
    # movies 5 and 4 of user 1 at the same second.
    rows = [
        (2, 3, 4.5, 100),
        (1, 5, 0.5, 50),
        (2, BIG_ID, 5.0, 10),
        (1, 4, 3.0, 50),
        (1, 9, 2.0, 7),
    ]
    with any_engine.begin() as conn:
        catalog.merge_rows(
            conn, catalog.MOVIES, [bare_movie(m) for m in sorted({r[1] for r in rows})]
        )
        catalog.merge_rows(
            conn,
            catalog.DEMO_USERS,
            [
                {"id": u, "username": f"user{u}", "password_hash": "h", "is_demo": True}
                for u in (1, 2)
            ],
        )
        with conn.begin_nested():
            frame = ratings_frame(conn)
        assert frame.empty
        catalog.merge_rows(
            conn,
            catalog.RATINGS,
            [
                dict(zip(("user_id", "movie_id", "rating", "rated_at"), r, strict=True))
                for r in rows
            ],
        )
    expected = [
        (1, 9, 2.0, 7),
        (1, 4, 3.0, 50),
        (1, 5, 0.5, 50),
        (2, BIG_ID, 5.0, 10),
        (2, 3, 4.5, 100),
    ]
    for engine in (any_engine, reader(any_engine)):
        with engine.connect() as conn:
            frame = ratings_frame(conn)
            # The connection is still usable: the read left no cursor or transaction open.
            assert conn.execute(select(ratings.c.movie_id).limit(1)).scalar() is not None
        assert list(frame.columns) == ["user_id", "movie_id", "rating", "timestamp"]
        assert [str(t) for t in frame.dtypes] == ["int64", "int64", "float32", "int64"]
        assert list(frame.itertuples(index=False, name=None)) == expected


def test_the_training_frame_brings_every_half_star_and_time_exactly(any_engine: Engine) -> None:
    """Each rating crosses the driver packed with its movie into one integer, as text: every
    half star, a movie id past 32 bits once packed, and times far apart (before 1970 too)."""
    stars = [0.5 * s for s in range(1, 11)]
    times = [-86_400, 0, 1, 2**31, 2**40, 7, 8, 9, 10, 11]
    movies = [1, 2, 3, 4, 5, 6, 7, 8, 9, BIG_ID]
    _store(any_engine, [(1, m, r) for m, r in zip(movies, stars, strict=True)])
    with any_engine.begin() as conn:
        for movie_id, rated_at in zip(movies, times, strict=True):
            conn.execute(
                ratings.update()
                .where(ratings.c.user_id == 1, ratings.c.movie_id == movie_id)
                .values(rated_at=rated_at)
            )
    with any_engine.connect() as conn:
        frame = ratings_frame(conn)
    assert list(frame.itertuples(index=False, name=None)) == sorted(
        zip([1] * 10, movies, stars, times, strict=True), key=lambda row: (row[3], row[1])
    )


@pytest.mark.parametrize(
    "stored", ["by key", "shuffled", "times too far apart to pack"], ids=lambda s: s
)
def test_the_training_frame_order_is_lexsorts_whatever_order_the_store_returns(
    stored: str,
) -> None:
    """The fast path (rows in key order, one packed sort), the shuffled path (a sort by movie
    first) and the fallback (``np.lexsort``) all give the order of user, then time, then movie,
    ties in time included."""
    rng = np.random.default_rng(7)
    keys = np.unique(rng.integers(0, 50, (2_000, 2)), axis=0)  # (user, movie), unique
    user_id, movie_id = keys[:, 0], keys[:, 1]
    timestamp = rng.integers(0, 30, len(keys))  # many ties within a user
    if stored == "times too far apart to pack":
        timestamp[0] = -(2**62)
    if stored != "by key":
        shuffle = rng.permutation(len(keys))
        user_id, movie_id, timestamp = user_id[shuffle], movie_id[shuffle], timestamp[shuffle]
    order = data.ratings._by_user_time_movie(user_id, movie_id, timestamp)
    np.testing.assert_array_equal(order, np.lexsort((movie_id, timestamp, user_id)))
