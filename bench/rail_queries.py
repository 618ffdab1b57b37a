"""The home-screen rails' queries on a store, against the queries they replaced (before 0006).

    .venv/bin/python bench/rail_queries.py /tmp/rails25.sqlite3 --rounds 3 --old-rounds 1

For each rail (and ``all_rating_stats``, behind the featured rail and the catalog's popularity
and rating sorts): the wall and CPU seconds of the old query, aggregating every rating, and of
the current one (``data.stats``, ``data.movies``), in the same run, plus their ratio; the
results must be the same (exit 1 otherwise). The old queries take minutes at 25 M ratings, so
they get their own, smaller number of rounds (0: the current queries alone). A store made
before 0006 is upgraded in place first (``movierec db upgrade``'s path): run it on a copy.
Prints the load average before and after.

``OLD`` is also the reference ``tests/data/test_rating_stats.py`` compares the rails with.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, func, select

from data import movies, stats
from data.db import open_store
from data.schema import ratings

# The service's parameters (graph.services.catalog): a 500-deep ranking, a 90-day window of at
# least 100 people, newly added among movies at least 10 people rated.
DEPTH = 500
WINDOW_SECONDS = 90 * 86400
MIN_WINDOW_RATERS = 100
MIN_RATERS = 10


def old_all_rating_stats(conn: Connection) -> dict[int, tuple[float, int]]:
    query = select(ratings.c.movie_id, func.avg(ratings.c.rating), func.count()).group_by(
        ratings.c.movie_id
    )
    return {movie_id: (float(avg), int(count)) for movie_id, avg, count in conn.execute(query)}


def old_nth_newest_rater(conn: Connection, count: int) -> int | None:
    last_seen = func.max(ratings.c.rated_at).label("last_seen")
    found = conn.execute(
        select(last_seen)
        .group_by(ratings.c.user_id)
        .order_by(last_seen.desc())
        .offset(count - 1)
        .limit(1)
    ).scalar()
    return None if found is None else int(found)


def old_trending(conn: Connection) -> list[int]:
    newest = conn.execute(select(func.max(ratings.c.rated_at))).scalar()
    if newest is None:
        return []
    nth = old_nth_newest_rater(conn, MIN_WINDOW_RATERS)
    start = None if nth is None else min(newest - WINDOW_SECONDS, nth)
    query = select(ratings.c.movie_id).group_by(ratings.c.movie_id)
    if start is not None:
        query = query.where(ratings.c.rated_at >= start)
    query = query.order_by(
        func.count().desc(), func.max(ratings.c.rated_at).desc(), ratings.c.movie_id
    ).limit(DEPTH)
    return list(conn.execute(query).scalars())


def old_newly_added(conn: Connection) -> list[int]:
    query = (
        select(ratings.c.movie_id)
        .group_by(ratings.c.movie_id)
        .having(func.count() >= MIN_RATERS)
        .order_by(func.min(ratings.c.rated_at).desc(), ratings.c.movie_id.desc())
        .limit(DEPTH)
    )
    return list(conn.execute(query).scalars())


def new_all_rating_stats(conn: Connection) -> dict[int, tuple[float, int]]:
    return {
        movie_id: (float(found.average or 0.0), found.count)
        for movie_id, found in movies.all_rating_stats(conn).items()
    }


def new_trending(conn: Connection) -> list[int]:
    return stats.trending_movie_ids(
        conn, DEPTH, window_seconds=WINDOW_SECONDS, min_window_raters=MIN_WINDOW_RATERS
    )


def new_newly_added(conn: Connection) -> list[int]:
    return stats.newly_added_movie_ids(conn, DEPTH, min_raters=MIN_RATERS)


Query = Callable[[Connection], Any]
# name -> (old query, current query)
OLD: dict[str, Query] = {
    "all_rating_stats": old_all_rating_stats,
    "newly_added": old_newly_added,
    "trending": old_trending,
    "nth_newest_rater": lambda conn: old_nth_newest_rater(conn, MIN_WINDOW_RATERS),
}
NEW: dict[str, Query] = {
    "all_rating_stats": new_all_rating_stats,
    "newly_added": new_newly_added,
    "trending": new_trending,
    "nth_newest_rater": lambda conn: stats.nth_newest_rater(conn, MIN_WINDOW_RATERS),
}


def measure(conn: Connection, query: Query, rounds: int) -> tuple[Any, list[float], list[float]]:
    """The query's result and its wall and CPU seconds over ``rounds`` runs."""
    walls, cpus = [], []
    result = None
    for _ in range(rounds):
        wall, cpu = time.perf_counter(), time.process_time()
        result = query(conn)
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return result, walls, cpus


def spread(values: list[float]) -> str:
    return (
        f"median {statistics.median(values):.4f} s (min {min(values):.4f}, max {max(values):.4f})"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("store", type=Path, help="a SQLite store (upgraded in place to head)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds of the current queries")
    parser.add_argument(
        "--old-rounds", type=int, default=1, help="rounds of the old queries (0: none)"
    )
    parser.add_argument("--only", choices=sorted(OLD), action="append", help="these queries")
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()}", flush=True)
    started = time.perf_counter()
    engine = open_store(f"sqlite:///{args.store}", create=True)  # upgrades one before 0006
    print(f"open (and upgrade to head): {time.perf_counter() - started:.1f} s", flush=True)
    failed = False
    with engine.connect() as conn:
        print(f"ratings: {conn.execute(select(func.count()).select_from(ratings)).scalar()}")
        for name in args.only or list(OLD):
            new, new_wall, new_cpu = measure(conn, NEW[name], args.rounds)
            print(f"{name}: new wall {spread(new_wall)}, cpu {spread(new_cpu)}", flush=True)
            if not args.old_rounds:
                continue
            old, old_wall, old_cpu = measure(conn, OLD[name], args.old_rounds)
            same = old == new
            failed |= not same
            wall_ratio = statistics.median(old_wall) / statistics.median(new_wall)
            cpu_ratio = statistics.median(old_cpu) / max(statistics.median(new_cpu), 1e-9)
            print(
                f"{name}: old wall {spread(old_wall)}, cpu {spread(old_cpu)}\n"
                f"{name}: old/new wall {wall_ratio:.0f}x, cpu {cpu_ratio:.0f}x; same: {same}",
                flush=True,
            )
    engine.dispose()
    print(f"load average after: {os.getloadavg()}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
