"""The ratings table's layout on SQLite, 0004's against 0005's, through the ETL's own bulk path.

0004 kept ratings in a rowid table plus four secondary indexes (one of them, 0003's, covering the
per-user read); 0005 keeps them ``WITHOUT ROWID`` on (user, movie) with three. This writes the
same synthetic ratings, sorted by (user, movie) as ``movierec etl`` writes them, into a new
store at each revision with ``data.bulk.BulkMerge`` (its ``write`` then ``finish``, which builds
the indexes), in the pragmas of a first load (``make_engine(new_file=True)``), and prints each
step's CPU seconds and the file's size. The layouts alternate round by round in one process, so
a change of the machine's load falls on both; CPU seconds, not wall time, are the figure.

    .venv/bin/python bench/ratings_layout.py --ratings 2500000 --rounds 2

2026-12-01, 2,496,806 ratings, 16,666 users, load average 17.7 at start and end (CPU s):

    round 1: revision 0004: write  10.34 s CPU, indexes  10.14 s CPU, file   244 MB
    round 1: revision 0005: write   8.31 s CPU, indexes   6.93 s CPU, file   158 MB
    round 2: revision 0004: write   9.79 s CPU, indexes   9.57 s CPU, file   244 MB
    round 2: revision 0005: write   8.98 s CPU, indexes   6.76 s CPU, file   158 MB
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np
from alembic import command

from data import catalog, migrations
from data.bulk import BulkMerge
from data.db import make_engine

COLUMNS = ("user_id", "movie_id", "rating", "rated_at")
CHUNK = 1 << 18


def synthetic(count: int, seed: int) -> tuple[list[tuple[int, int, float, int]], int, int]:
    """``count`` ratings drawn at random, one per (user, movie), in (user, movie) order; with
    the number of users and movies they need."""
    rng = np.random.default_rng(seed)
    users, movies = max(2, count // 150), 60_000
    user = rng.integers(1, users + 1, count)
    movie = rng.integers(1, movies + 1, count)
    order = np.lexsort((movie, user))
    user, movie = user[order], movie[order]
    first = np.ones(count, dtype=bool)
    first[1:] = (user[1:] != user[:-1]) | (movie[1:] != movie[:-1])
    user, movie = user[first], movie[first]
    stars = rng.integers(1, 11, len(user)) / 2
    times = rng.integers(800_000_000, 1_600_000_000, len(user))
    rows = list(zip(user.tolist(), movie.tolist(), stars.tolist(), times.tolist(), strict=True))
    return rows, users, movies


def load(
    folder: Path, revision: str, rows: list[tuple[int, int, float, int]], users: int, movies: int
) -> str:
    """One first load of ``rows`` into a new store at ``revision``; returns the line to print."""
    path = folder / f"{revision}.sqlite3"
    engine = make_engine(f"sqlite:///{path}", new_file=True)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("BEGIN")
            command.upgrade(migrations.config(conn), revision)
            catalog.merge_rows(conn, catalog.MOVIES, [_movie(n) for n in range(1, movies + 1)])
            catalog.merge_rows(
                conn,
                catalog.DEMO_USERS,
                [
                    {"id": n, "username": f"user{n}", "password_hash": "h", "is_demo": True}
                    for n in range(1, users + 1)
                ],
            )
            writer = BulkMerge(conn, catalog.RATINGS, COLUMNS)
            started = time.process_time()
            for start in range(0, len(rows), CHUNK):
                writer.write(rows[start : start + CHUNK])
            written = time.process_time()
            writer.finish()
            indexed = time.process_time()
        size = path.stat().st_size / 2**20
    finally:
        engine.dispose()
        path.unlink(missing_ok=True)
    return (
        f"revision {revision}: write {written - started:6.2f} s CPU, indexes "
        f"{indexed - written:6.2f} s CPU, file {size:5.0f} MB"
    )


def _movie(movie_id: int) -> dict[str, object]:
    title = f"M{movie_id}"
    return {"id": movie_id, "title": title, "movielens_title": title}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ratings", type=int, default=2_500_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rows, users, movies = synthetic(args.ratings, args.seed)
    print(
        f"{len(rows):,} ratings, {users:,} users, {movies:,} movies; "
        f"load average {os.getloadavg()[0]:.1f}",
        flush=True,
    )
    with tempfile.TemporaryDirectory() as folder:
        for number in range(args.rounds):
            for revision in ("0004", "0005"):
                print(
                    f"round {number + 1}: {load(Path(folder), revision, rows, users, movies)}",
                    flush=True,
                )
    print(f"load average at end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
