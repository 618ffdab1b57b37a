"""The request path's read of one user's ratings into arrays."""

from __future__ import annotations

import numpy as np
from sqlalchemy import Engine, select

from data import catalog
from data.ratings import user_rating_arrays
from data.schema import ratings
from tests.data.rows import bare_movie

# Past 2**31 / 16: the packed value outgrows a 32-bit integer.
BIG_ID = 200_000_000


def _store(engine: Engine, rows: list[tuple[int, int, float]], *, rated_at: int = 1) -> None:
    with engine.begin() as conn:
        catalog.upsert_movies(conn, [bare_movie(m) for m in sorted({m for _, m, _ in rows})])
        catalog.add_demo_users(
            conn,
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
