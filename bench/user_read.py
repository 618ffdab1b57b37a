"""Latency of the request path's read of one user's ratings, against reading SQLAlchemy rows.

Every recommendation and prediction request folds the user in from their current ratings, so
this read is on the hot path and grows with the user's rating count. Both ways run in the same
process on the same store; the row read is the reference (what the path did before).

Run, on a store holding a heavy user (the synthetic folder's heaviest user has
``--max-user-ratings``):

    .venv/bin/python bench/synth_movielens.py --out /tmp/scale-req/ml --users 3000 \\
        --movies 40000 --ratings 500000 --max-user-ratings 30000 --seed 3
    MOVIEREC_DATA_DIR=/tmp/scale-req/data .venv/bin/movierec etl --movielens /tmp/scale-req/ml
    MOVIEREC_DATA_DIR=/tmp/scale-req/data .venv/bin/python bench/user_read.py
"""

from __future__ import annotations

import os

import numpy as np
from sqlalchemy import Connection, func, select
from timing import timed

from data.db import open_store
from data.ratings import user_rating_arrays
from data.schema import ratings
from movierec.settings import Settings


def row_read(conn: Connection, user_id: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The reference: one SQLAlchemy row per rating, zipped into arrays."""
    query = select(ratings.c.movie_id, ratings.c.rating, ratings.c.rated_at).where(
        ratings.c.user_id == user_id
    )
    rows = conn.execute(query).all()
    movie_ids, values, rated_at = zip(*rows, strict=True)
    return (
        np.array(movie_ids, dtype=np.int64),
        np.array(values, dtype=np.float32),
        np.array(rated_at, dtype=np.int64),
    )


def main() -> None:
    engine = open_store(Settings().resolved_database_url)
    print(f"load average {os.getloadavg()[0]:.1f}")
    with engine.connect() as conn:
        counts = conn.execute(
            select(ratings.c.user_id, func.count())
            .group_by(ratings.c.user_id)
            .order_by(func.count().desc())
        ).all()
        picks = {"heaviest": counts[0], "median": counts[len(counts) // 2]}
        for label, (user_id, count) in picks.items():
            for name, read in (("rows", row_read), ("packed", user_rating_arrays)):
                figures = timed(lambda u, read=read: read(conn, u), [user_id] * 200)
                print(f"{label} user {user_id} ({count:,} ratings), {name}: {figures}")


if __name__ == "__main__":
    main()
