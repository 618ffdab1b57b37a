"""Latency of the request path's read of one user's ratings: the packed row against the
aggregate it replaces, and against reading SQLAlchemy rows; and what keeping the packed row
current adds to a re-rating.

Every recommendation and prediction request folds the user in from their current ratings, so
this read is on the hot path and grows with the user's rating count. A user with
``VECTOR_MIN_RATINGS`` or more has their ratings packed into one row (``user_rating_vectors``),
which ``user_rating_arrays`` returns; the aggregate of every rating
(``aggregated_rating_arrays``, what the read did before and still does for lighter users) and
one SQLAlchemy row per rating are the references. All three run in the same process on the same
store, interleaved round by round, so a change of load touches them alike.

Picks the heaviest user, the lightest user at or above ``VECTOR_MIN_RATINGS`` and the median
user (the last two show what users on either side of the threshold pay). Each round also times
re-ratings of each, each in a transaction rolled back: the rating's upsert alone (what
``set_rating`` did before), ``set_rating`` (which folds the change into a packed row), and
``set_rating`` given a stale packed row (which aggregates and packs the ratings again).

Run, on a store holding a heavy user (the synthetic folder's heaviest user has
``--max-user-ratings``; the ETL packs the heavy users' ratings):

    .venv/bin/python bench/synth_movielens.py --out /tmp/scale-req/ml --users 3000 \\
        --movies 40000 --ratings 500000 --max-user-ratings 30000 --seed 3
    MOVIEREC_DATA_DIR=/tmp/scale-req/data .venv/bin/movierec etl --movielens /tmp/scale-req/ml
    MOVIEREC_DATA_DIR=/tmp/scale-req/data .venv/bin/python bench/user_read.py
"""

from __future__ import annotations

import argparse
import os
import resource
import time
from collections.abc import Callable
from functools import partial

import numpy as np
from sqlalchemy import Connection, Engine, func, select, update
from timing import wall_ms

from data.catalog import upsert
from data.db import open_store
from data.ratings import (
    VECTOR_MIN_RATINGS,
    aggregated_rating_arrays,
    set_rating,
    user_rating_arrays,
)
from data.schema import ratings, user_rating_vectors
from movierec.settings import Settings

Read = Callable[[Connection, int], tuple[np.ndarray, np.ndarray, np.ndarray]]


def row_read(conn: Connection, user_id: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The first reference: one SQLAlchemy row per rating, zipped into arrays."""
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


def p50_ms(call: Callable[[], object], calls: int) -> float:
    return float(np.percentile(wall_ms(lambda _: call(), range(calls)), 50))


def rate_in_rollback(engine: Engine, user_id: int, movie_id: int, way: str) -> float:
    """Seconds of one re-rating of the user's, in a transaction rolled back afterwards, one of
    ``WRITES``: the rating's upsert alone (what ``set_rating`` did before the packed rows),
    ``set_rating``, and ``set_rating`` after the packed row was marked stale (untimed), so that
    it aggregates the ratings again instead of folding its change in."""
    with engine.connect() as conn, conn.begin() as transaction:
        if way == "stale row":
            conn.execute(
                update(user_rating_vectors)
                .where(user_rating_vectors.c.user_id == user_id)
                .values(stale_writes=user_rating_vectors.c.stale_writes + 1)
            )
        row = {"user_id": user_id, "movie_id": movie_id, "rating": 3.0, "rated_at": 2_000_000_000}
        started = time.perf_counter()
        if way == "rating only":
            upsert(conn, ratings, [row], key=["user_id", "movie_id"], update_columns=["rating"])
        else:
            set_rating(conn, **row)
        seconds = time.perf_counter() - started
        transaction.rollback()
    return seconds


# The ways ``rate_in_rollback`` writes (``set_rating`` folds its change into a packed row that
# missed only this write; given a stale row it packs the ratings again).
WRITES = ("rating only", "set_rating", "stale row")


def report(title: str, figures: dict[tuple[str, str], list[float]], reference: str) -> None:
    print(title)
    for (label, name), p50s in figures.items():
        ratio = np.array(p50s) / np.array(figures.get((label, reference), p50s))
        print(
            f"  {label:<9} {name:<13} p50 by round {' / '.join(f'{v:.3f}' for v in p50s)} ms "
            f"(median {np.median(p50s):.3f}; vs {reference} {ratio.min():.2f}-{ratio.max():.2f})"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--calls", type=int, default=100, help="calls per way, user and round")
    args = parser.parse_args()
    engine = open_store(Settings().resolved_database_url)
    with engine.connect() as conn:
        counts = conn.execute(
            select(ratings.c.user_id, func.count())
            .group_by(ratings.c.user_id)
            .order_by(func.count().desc())
        ).all()
        packed = set(conn.execute(select(user_rating_vectors.c.user_id)).scalars())
        at_threshold = min(
            (row for row in counts if row[1] >= VECTOR_MIN_RATINGS), key=lambda row: row[1]
        )
        picks = {
            "heaviest": counts[0],
            "threshold": at_threshold,
            "median": counts[len(counts) // 2],
        }
        for label, (user_id, count) in picks.items():
            row = "a packed row" if user_id in packed else "no packed row"
            print(f"{label} user {user_id}: {count:,} ratings, {row}")
            assert all(
                np.array_equal(np.sort(a), np.sort(b))
                for a, b in zip(
                    user_rating_arrays(conn, user_id), row_read(conn, user_id), strict=True
                )
            ), f"user {user_id}: the packed read differs from the rows"
        rated = {label: int(user_rating_arrays(conn, u)[0][0]) for label, (u, _) in picks.items()}
    reads: dict[str, Read] = {
        "packed read": user_rating_arrays,
        "aggregate": aggregated_rating_arrays,
        "rows": row_read,
    }
    read_figures: dict[tuple[str, str], list[float]] = {}
    write_figures: dict[tuple[str, str], list[float]] = {}
    load = [os.getloadavg()[0]]
    cpu = resource.getrusage(resource.RUSAGE_SELF).ru_utime
    writes = max(1, args.calls // 10)
    for _ in range(args.rounds):
        with engine.connect() as conn:
            for label, (user_id, _) in picks.items():
                for name, read in reads.items():
                    calls = args.calls if name != "rows" else max(1, args.calls // 10)
                    call = partial(read, conn, user_id)
                    read_figures.setdefault((label, name), []).append(p50_ms(call, calls))
        for label, (user_id, _) in picks.items():
            for name in WRITES:
                if user_id not in packed and name == "stale row":
                    continue
                seconds = [
                    rate_in_rollback(engine, user_id, rated[label], name) for _ in range(writes)
                ]
                p50 = float(np.percentile(seconds, 50) * 1e3)
                write_figures.setdefault((label, name), []).append(p50)
        load.append(os.getloadavg()[0])
    cpu = resource.getrusage(resource.RUSAGE_SELF).ru_utime - cpu
    print(
        f"{args.rounds} rounds of {args.calls} reads a way ({writes} of rows, {writes} writes); "
        f"load average {min(load):.1f}-{max(load):.1f}; CPU {cpu:.1f} s"
    )
    report("reads (user_rating_arrays):", read_figures, "aggregate")
    report("a re-rating (rolled back):", write_figures, "rating only")


if __name__ == "__main__":
    main()
